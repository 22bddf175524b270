package dev.strata.engine.volume;

/** A snapshot of that name already exists. */
public class SnapshotExistsException extends VolumeException {
    public SnapshotExistsException(String message) {
        super(message);
    }
}
