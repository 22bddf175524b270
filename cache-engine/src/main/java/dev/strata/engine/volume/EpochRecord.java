package dev.strata.engine.volume;

import dev.strata.engine.util.TextRecord;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The record a writer creates (conditionally) to own a volume: its epoch, who holds it, and the
 * fence — the last object sequence number of the previous epochs that is part of the volume.
 * Objects of older epochs numbered above the fence are never replayed (docs/format.md, "Epochs").
 */
public record EpochRecord(long epoch, String holderNode, String holderDescription, long fenceObjectSeq,
        Instant opened) {
    public static final String TYPE = "strata-epoch";
    public static final int FORMAT = 1;

    public byte[] encode(String volume) {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", Integer.toString(FORMAT));
        f.put("volume", volume);
        f.put("epoch", Long.toString(epoch));
        f.put("node", holderNode);
        f.put("holder", holderDescription);
        f.put("fence", Long.toString(fenceObjectSeq));
        f.put("opened", opened.toString());
        return new TextRecord(TYPE, f).encode();
    }

    public static EpochRecord decode(byte[] bytes, String where) throws IOException {
        TextRecord r = TextRecord.decode(bytes, TYPE, where);
        long format = r.requireLong("format", where);
        if (format != FORMAT) {
            throw new IOException(where + ": unsupported epoch record format " + format);
        }
        Instant opened;
        try {
            opened = Instant.parse(r.require("opened", where));
        } catch (RuntimeException e) {
            throw new IOException(where + ": invalid open time", e);
        }
        return new EpochRecord(r.requireLong("epoch", where), r.require("node", where), r.require("holder", where),
                r.requireLong("fence", where), opened);
    }
}
