package dev.strata.engine.volume;

import java.io.IOException;

/** A volume request that failed; the message names the volume and, where there is one, the offset. */
public class VolumeException extends IOException {
    public VolumeException(String message) {
        super(message);
    }

    public VolumeException(String message, Throwable cause) {
        super(message, cause);
    }
}
