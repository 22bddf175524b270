package dev.strata.engine.volume;

/** The snapshot cannot be deleted: clones read through it (the message names them). */
public class SnapshotInUseException extends VolumeException {
    public SnapshotInUseException(String message) {
        super(message);
    }
}
