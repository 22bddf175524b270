package dev.strata.engine.volume;

/** No such snapshot. */
public class SnapshotNotFoundException extends VolumeException {
    public SnapshotNotFoundException(String message) {
        super(message);
    }
}
