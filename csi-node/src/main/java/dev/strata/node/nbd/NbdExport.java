package dev.strata.node.nbd;

import dev.strata.engine.volume.Volume;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * One named export: what a client selects with NBD_OPT_GO / NBD_OPT_EXPORT_NAME. The server
 * does not own the volume: closing the server leaves it open; the caller closes it.
 */
public record NbdExport(String name, String description, Volume volume) {
    public NbdExport {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(volume, "volume");
        description = description == null ? "" : description;
        if (name.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING_LENGTH
                || description.getBytes(StandardCharsets.UTF_8).length > NbdProtocol.MAX_STRING_LENGTH) {
            throw new IllegalArgumentException("export name and description must be at most 4096 bytes: " + name);
        }
        if (name.indexOf('\0') >= 0 || description.indexOf('\0') >= 0) {
            throw new IllegalArgumentException("export name and description must not contain NUL: " + name);
        }
    }

    public NbdExport(String name, Volume volume) {
        this(name, "", volume);
    }

    /** Transmission flags for this export, advertised truthfully (see docs/nbd.md). */
    int transmissionFlags() {
        int flags = NbdProtocol.TX_HAS_FLAGS | NbdProtocol.TX_SEND_FLUSH | NbdProtocol.TX_SEND_FUA
                | NbdProtocol.TX_SEND_CACHE
                // Volume.flush() is volume-wide and every connection to this export shares one Volume.
                | NbdProtocol.TX_CAN_MULTI_CONN;
        if (volume.isReadOnly()) {
            flags |= NbdProtocol.TX_READ_ONLY;
        } else {
            // Zeroing is metadata-only in the engine, so FAST_ZERO can always succeed.
            flags |= NbdProtocol.TX_SEND_TRIM | NbdProtocol.TX_SEND_WRITE_ZEROES | NbdProtocol.TX_SEND_FAST_ZERO;
        }
        return flags;
    }
}
