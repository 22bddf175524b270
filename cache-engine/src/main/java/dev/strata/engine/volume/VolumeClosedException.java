package dev.strata.engine.volume;

/** The volume was closed (NBD: ESHUTDOWN). */
public class VolumeClosedException extends VolumeException {
    public VolumeClosedException(String message) {
        super(message);
    }
}
