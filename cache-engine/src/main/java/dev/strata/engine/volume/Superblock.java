package dev.strata.engine.volume;

import dev.strata.engine.util.TextRecord;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** A volume's identity and geometry, written once at creation (docs/format.md, "Superblock"). */
public record Superblock(String volume, String volumeId, long sizeBytes, int sectorSize, int blockSize,
        Instant created) {
    public static final String TYPE = "strata-superblock";
    public static final int FORMAT = 1;

    public byte[] encode() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", Integer.toString(FORMAT));
        f.put("volume", volume);
        f.put("id", volumeId);
        f.put("size", Long.toString(sizeBytes));
        f.put("sectorSize", Integer.toString(sectorSize));
        f.put("blockSize", Integer.toString(blockSize));
        f.put("created", created.toString());
        return new TextRecord(TYPE, f).encode();
    }

    public static Superblock decode(byte[] bytes, String where) throws IOException {
        TextRecord r = TextRecord.decode(bytes, TYPE, where);
        long format = r.requireLong("format", where);
        if (format != FORMAT) {
            throw new IOException(where + ": unsupported superblock format " + format);
        }
        long size = r.requireLong("size", where);
        long sector = r.requireLong("sectorSize", where);
        long block = r.requireLong("blockSize", where);
        if (sector != Volume.SECTOR_SIZE || size <= 0 || size % sector != 0 || block < sector) {
            throw new IOException(where + ": invalid geometry (size " + size + ", sector " + sector + ", block " + block + ")");
        }
        Instant created;
        try {
            created = Instant.parse(r.require("created", where));
        } catch (RuntimeException e) {
            throw new IOException(where + ": invalid creation time", e);
        }
        return new Superblock(r.require("volume", where), r.require("id", where), size, (int) sector, (int) block, created);
    }
}
