package dev.strata.engine.volume;

/** Offset or length outside the volume, or not a multiple of the sector size (NBD: EINVAL / ENOSPC). */
public class OutOfRangeException extends VolumeException {
    public OutOfRangeException(String message) {
        super(message);
    }
}
