package dev.strata.engine.volume;

/** A write, trim or write-zeroes on a volume opened read-only (NBD: EPERM). */
public class ReadOnlyVolumeException extends VolumeException {
    public ReadOnlyVolumeException(String message) {
        super(message);
    }
}
