package dev.strata.engine.volume;

/** A volume of that name already exists. */
public class VolumeExistsException extends VolumeException {
    public VolumeExistsException(String message) {
        super(message);
    }
}
