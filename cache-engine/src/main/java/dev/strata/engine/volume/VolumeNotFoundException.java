package dev.strata.engine.volume;

/** No volume of that name in the bucket. */
public class VolumeNotFoundException extends VolumeException {
    public VolumeNotFoundException(String message) {
        super(message);
    }
}
