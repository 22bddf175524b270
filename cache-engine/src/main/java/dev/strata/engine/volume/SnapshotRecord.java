package dev.strata.engine.volume;

import dev.strata.engine.util.TextRecord;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A snapshot record (docs/snapshots-and-clones.md, "Snapshot record"): names the frozen map
 * checkpoint of the snapshot and the objects it may point into.
 *
 * @param objectSeq  R: the map points into objects up to R, all uploaded before the record was written
 * @param coveredSeq C: the map's object table lists objects up to C
 * @param epoch      E: the writer that took it; objects C+1..R are all of epoch E
 * @param mapKey     the key of the map checkpoint
 */
public record SnapshotRecord(String volume, String snapshot, long objectSeq, long coveredSeq, long epoch, String mapKey,
        Instant created) {
    public static final String TYPE = "strata-snapshot";
    public static final int FORMAT = 1;

    public byte[] encode() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", Integer.toString(FORMAT));
        f.put("volume", volume);
        f.put("snapshot", snapshot);
        f.put("objectSeq", Long.toString(objectSeq));
        f.put("coveredSeq", Long.toString(coveredSeq));
        f.put("epoch", Long.toString(epoch));
        f.put("map", mapKey);
        f.put("created", created.toString());
        return new TextRecord(TYPE, f).encode();
    }

    public static SnapshotRecord decode(byte[] bytes, String where) throws IOException {
        TextRecord r = TextRecord.decode(bytes, TYPE, where);
        long format = r.requireLong("format", where);
        if (format != FORMAT) {
            throw new IOException(where + ": unsupported snapshot record format " + format);
        }
        long objectSeq = r.requireLong("objectSeq", where);
        long coveredSeq = r.requireLong("coveredSeq", where);
        if (coveredSeq < 0 || coveredSeq > objectSeq) {
            throw new IOException(where + ": covered object " + coveredSeq + " outside 0.." + objectSeq);
        }
        Instant created;
        try {
            created = Instant.parse(r.require("created", where));
        } catch (RuntimeException e) {
            throw new IOException(where + ": invalid creation time", e);
        }
        return new SnapshotRecord(r.require("volume", where), r.require("snapshot", where), objectSeq, coveredSeq,
                r.requireLong("epoch", where), r.require("map", where), created);
    }
}
