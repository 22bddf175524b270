package dev.strata.engine.volume;

/** Another writer took the volume over (a newer epoch): this one may no longer write (NBD: EIO / EPERM). */
public class VolumeFencedException extends VolumeException {
    public VolumeFencedException(String message) {
        super(message);
    }
}
