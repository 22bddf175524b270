package dev.strata.engine.objectlog;

import java.util.regex.Pattern;

/**
 * Where a volume's state lives in the bucket (see docs/format.md, "Bucket layout").
 *
 * <p>Every number in a key is 16 zero-padded lower-case hex digits so that the store's
 * ascending key order is numeric order.
 */
public final class VolumeKeys {
    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,127}");
    private static final String ROOT = "volumes/";

    private final String volume;
    private final String prefix;

    public VolumeKeys(String volume) {
        validateName(volume);
        this.volume = volume;
        this.prefix = ROOT + volume + "/";
    }

    /** Rejects names that could escape the volume's prefix or clash with key syntax. */
    public static void validateName(String volume) {
        if (volume == null || !NAME.matcher(volume).matches() || volume.contains("..")) {
            throw new IllegalArgumentException("invalid volume name '" + volume
                    + "': 1-128 characters of [A-Za-z0-9._-], starting with a letter or digit, no '..'");
        }
    }

    public static String volumesRoot() {
        return ROOT;
    }

    public String volume() {
        return volume;
    }

    public String prefix() {
        return prefix;
    }

    public String superblock() {
        return prefix + "superblock";
    }

    /** Present while the volume is being deleted: it cannot be opened, and its name cannot be reused. */
    public String deleting() {
        return prefix + "deleting";
    }

    public String epochsPrefix() {
        return prefix + "epochs/";
    }

    public String epoch(long epoch) {
        return epochsPrefix() + hex(epoch);
    }

    public String epochReleased(long epoch) {
        return epoch(epoch) + ".released";
    }

    public String objectsPrefix() {
        return prefix + "objects/";
    }

    public String object(long seq, long epoch) {
        return objectsPrefix() + hex(seq) + "-" + hex(epoch);
    }

    public String checkpointsPrefix() {
        return prefix + "checkpoints/";
    }

    public String checkpoint(long seq, long epoch) {
        return checkpointsPrefix() + hex(seq) + "-" + hex(epoch);
    }

    // ---------------------------------------------------------------- snapshots (docs/snapshots-and-clones.md)

    private static final Pattern SNAPSHOT = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,127}");

    /** Snapshot names have no dot, so a record's key never collides with its map, refs or marker keys. */
    public static void validateSnapshotName(String snapshot) {
        if (snapshot == null || !SNAPSHOT.matcher(snapshot).matches()) {
            throw new IllegalArgumentException("invalid snapshot name '" + snapshot
                    + "': 1-128 characters of [A-Za-z0-9_-], starting with a letter or digit");
        }
    }

    public String snapshotsPrefix() {
        return prefix + "snapshots/";
    }

    public String snapshot(String name) {
        validateSnapshotName(name);
        return snapshotsPrefix() + name;
    }

    /** The snapshot's frozen map checkpoint; {@code id} keeps racing creators of one name apart. */
    public String snapshotMap(String name, String id) {
        return snapshot(name) + ".map-" + id;
    }

    public String snapshotRefsPrefix(String name) {
        return snapshot(name) + ".refs/";
    }

    public String snapshotRef(String name, String clone) {
        validateName(clone);
        return snapshotRefsPrefix(name) + clone;
    }

    public String snapshotDeleting(String name) {
        return snapshot(name) + ".deleting";
    }

    /** Parses "SEQ-EPOCH" after a prefix; null if the key is not of that form. */
    public static long[] parseSeqEpoch(String key, String prefix) {
        if (!key.startsWith(prefix)) {
            return null;
        }
        String rest = key.substring(prefix.length());
        if (rest.length() != 33 || rest.charAt(16) != '-') {
            return null;
        }
        try {
            return new long[] {Long.parseUnsignedLong(rest, 0, 16, 16), Long.parseUnsignedLong(rest, 17, 33, 16)};
        } catch (NumberFormatException e) {
            return null;
        }
    }

    public static String hex(long n) {
        String s = Long.toHexString(n);
        return "0".repeat(16 - s.length()) + s;
    }
}
