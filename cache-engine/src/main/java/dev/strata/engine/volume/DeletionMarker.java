package dev.strata.engine.volume;

import dev.strata.engine.util.TextRecord;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The marker a delete writes first (docs/snapshots-and-clones.md, "Deleting while clones read"):
 * {@code volumes/V/deleting} for a volume, {@code volumes/V/snapshots/S.deleting} for a snapshot.
 * Its presence is what counts: the volume or snapshot is deleted from the user's view (not
 * listed, not openable by name, its name reserved) and whatever is left under it is removed as
 * soon as no clone references it. The content is a text record for people and tools.
 *
 * @param snapshot null for a volume marker
 */
record DeletionMarker(String volume, String snapshot, String requester, Instant since) {
    static final String VOLUME_TYPE = "strata-volume-deleting";
    static final String SNAPSHOT_TYPE = "strata-snapshot-deleting";
    static final int FORMAT = 1;

    byte[] encode() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", Integer.toString(FORMAT));
        f.put("volume", volume);
        if (snapshot != null) {
            f.put("snapshot", snapshot);
        }
        f.put("requester", requester.replace('\n', ' '));
        f.put("since", since.toString());
        return new TextRecord(snapshot == null ? VOLUME_TYPE : SNAPSHOT_TYPE, f).encode();
    }

    static DeletionMarker decode(byte[] bytes, boolean ofSnapshot, String where) throws IOException {
        TextRecord r = TextRecord.decode(bytes, ofSnapshot ? SNAPSHOT_TYPE : VOLUME_TYPE, where);
        long format = r.requireLong("format", where);
        if (format != FORMAT) {
            throw new IOException(where + ": unsupported deletion marker format " + format);
        }
        Instant since;
        try {
            since = Instant.parse(r.require("since", where));
        } catch (RuntimeException e) {
            throw new IOException(where + ": invalid time", e);
        }
        return new DeletionMarker(r.require("volume", where), ofSnapshot ? r.require("snapshot", where) : null,
                r.require("requester", where), since);
    }
}
