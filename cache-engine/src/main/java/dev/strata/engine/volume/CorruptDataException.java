package dev.strata.engine.volume;

/** Data read back failed its checksum (journal record, object block or cache block); never returned as good (NBD: EIO). */
public class CorruptDataException extends VolumeException {
    public CorruptDataException(String message) {
        super(message);
    }
}
