package dev.strata.engine.volume;

import dev.strata.engine.util.TextRecord;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A volume's identity and geometry, written once at creation (docs/format.md, "Superblock").
 *
 * @param parent for a clone, {@code VOLUME@SNAPSHOT} its unwritten blocks read through to; null
 *               for a plain volume. Clones are written as format 2 so that a reader that knows
 *               only format 1 refuses them instead of serving the parent's blocks as zeros.
 */
public record Superblock(String volume, String volumeId, long sizeBytes, int sectorSize, int blockSize,
        Instant created, String parent) {
    public static final String TYPE = "strata-superblock";
    public static final int FORMAT = 1;
    /** Format 1 plus {@code parent} (docs/snapshots-and-clones.md). */
    public static final int FORMAT_CLONE = 2;

    public Superblock(String volume, String volumeId, long sizeBytes, int sectorSize, int blockSize, Instant created) {
        this(volume, volumeId, sizeBytes, sectorSize, blockSize, created, null);
    }

    /** The parent's volume name, or null for a plain volume. */
    public String parentVolume() {
        return parent == null ? null : parent.substring(0, parent.indexOf('@'));
    }

    /** The parent's snapshot name, or null for a plain volume. */
    public String parentSnapshot() {
        return parent == null ? null : parent.substring(parent.indexOf('@') + 1);
    }

    public byte[] encode() {
        Map<String, String> f = new LinkedHashMap<>();
        f.put("format", Integer.toString(parent == null ? FORMAT : FORMAT_CLONE));
        f.put("volume", volume);
        f.put("id", volumeId);
        f.put("size", Long.toString(sizeBytes));
        f.put("sectorSize", Integer.toString(sectorSize));
        f.put("blockSize", Integer.toString(blockSize));
        f.put("created", created.toString());
        if (parent != null) {
            f.put("parent", parent);
        }
        return new TextRecord(TYPE, f).encode();
    }

    public static Superblock decode(byte[] bytes, String where) throws IOException {
        TextRecord r = TextRecord.decode(bytes, TYPE, where);
        long format = r.requireLong("format", where);
        if (format != FORMAT && format != FORMAT_CLONE) {
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
        String parent = null;
        if (format == FORMAT_CLONE) {
            parent = r.require("parent", where);
            int at = parent.indexOf('@');
            if (at <= 0 || at == parent.length() - 1) {
                throw new IOException(where + ": parent '" + parent + "' is not VOLUME@SNAPSHOT");
            }
        }
        return new Superblock(r.require("volume", where), r.require("id", where), size, (int) sector, (int) block, created,
                parent);
    }
}
