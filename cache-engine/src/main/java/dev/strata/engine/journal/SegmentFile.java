package dev.strata.engine.journal;

import dev.strata.engine.pacing.WritebackPacer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.EnumSet;
import java.util.HexFormat;

/**
 * One segment file open for writing: creation (preallocated, zero-filled), recycling (rename +
 * new header), positional writes and force. Naming of segment files lives here too.
 * Not thread-safe: a segment is used by one thread at a time (the writer, or a recycler under
 * {@link SegmentSpace}'s lock).
 *
 * <p>A segment written through the page cache (not O_DIRECT) that is created or opened for
 * entries has a {@link WritebackPacer}: every write is reported to it, so the zero-fill and the
 * entries never leave more than about two chunks dirty, and written parts are dropped from the
 * page cache (the journal is never read back except by replay after a restart). Durability is
 * unaffected: it still comes from {@link #force()} alone.
 */
final class SegmentFile implements AutoCloseable {
    static final String PREFIX = "segment-";
    static final String SUFFIX = ".log";
    static final String TMP_SUFFIX = ".tmp";
    private static final int ZERO_CHUNK = 1 << 20;

    private final Path path;
    private final long id;
    private final FileChannel channel;
    private final boolean direct;
    /** Null when not paced (O_DIRECT, pacing off, hints unavailable, or a header-only open). */
    private final WritebackPacer pacer;

    private SegmentFile(Path path, long id, SegmentChannels.Opened opened, WritebackPacer pacer) {
        this.path = path;
        this.id = id;
        this.channel = opened.channel();
        this.direct = opened.direct();
        this.pacer = pacer;
    }

    /** {@code openedAs}: the name the file had when opened (the hint fd follows the file through renames). */
    private static SegmentFile paced(Path path, Path openedAs, long id, SegmentChannels.Opened opened, SegmentChannels channels) {
        return new SegmentFile(path, id, opened, channels.pacerFor(openedAs, opened.direct()));
    }

    static String fileName(long id) {
        return PREFIX + HexFormat.of().toHexDigits(id) + SUFFIX;
    }

    /** The segment id in a file name, or -1 if the name is not a segment's. */
    static long parseId(String name) {
        if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX) || name.length() != PREFIX.length() + 16 + SUFFIX.length()) {
            return -1;
        }
        String hex = name.substring(PREFIX.length(), PREFIX.length() + 16);
        for (int i = 0; i < hex.length(); i++) {
            if (Character.digit(hex.charAt(i), 16) < 0) {
                return -1;
            }
        }
        long id = HexFormat.fromHexDigitsToLong(hex);
        return id < 0 ? -1 : id;
    }

    /**
     * Creates segment {@code id}: a temporary file zero-filled to {@code size} (so later writes
     * allocate nothing), its header, force, then an atomic rename to the final name and a force
     * of the directory. A crash leaves either nothing, a {@code .tmp} file, or a whole segment.
     */
    static SegmentFile create(Path dir, long id, String volumeId, long size, SegmentChannels channels) throws IOException {
        Path tmp = dir.resolve(fileName(id) + TMP_SUFFIX);
        Path path = dir.resolve(fileName(id));
        SegmentChannels.Opened opened = channels.open(tmp, EnumSet.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE));
        SegmentFile segment = paced(path, tmp, id, opened, channels);
        try {
            ByteBuffer zeros = JournalFormat.alignedBuffer((int) Math.min(ZERO_CHUNK, size));
            for (long pos = 0; pos < size; pos += zeros.capacity()) {
                zeros.clear().limit((int) Math.min(zeros.capacity(), size - pos));
                segment.write(zeros, pos);
            }
            segment.writeHeader(new SegmentHeader(id, size, volumeId));
            Files.move(tmp, path, StandardCopyOption.ATOMIC_MOVE);
            forceDirectory(dir);
            return segment;
        } catch (IOException | RuntimeException e) {
            segment.close();
            Files.deleteIfExists(tmp);
            throw new IOException("journal " + dir + ": cannot create segment " + path.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /**
     * Turns a released segment into an empty segment {@code newId}: rename first, then rewrite
     * and force the header. A crash in between leaves a file whose header names another id,
     * which replay skips; the entries left inside name the old id, so they are never replayed.
     */
    static void recycle(Path dir, Path oldPath, long newId, String volumeId, long size, SegmentChannels channels) throws IOException {
        Path path = dir.resolve(fileName(newId));
        try {
            Files.move(oldPath, path, StandardCopyOption.ATOMIC_MOVE);
            // Header only: 4 KiB, not worth a pacer.
            try (SegmentFile segment = new SegmentFile(path, newId, channels.open(path, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE)), null)) {
                segment.writeHeader(new SegmentHeader(newId, size, volumeId));
            }
            forceDirectory(dir);
        } catch (IOException e) {
            throw new IOException("journal " + dir + ": cannot recycle segment " + oldPath.getFileName() + " as " + path.getFileName() + ": " + e.getMessage(), e);
        }
    }

    /** Opens an existing (created or recycled) segment for writing entries. */
    static SegmentFile open(Path path, long id, SegmentChannels channels) throws IOException {
        return paced(path, path, id, channels.open(path, EnumSet.of(StandardOpenOption.READ, StandardOpenOption.WRITE)), channels);
    }

    private void writeHeader(SegmentHeader header) throws IOException {
        ByteBuffer block = JournalFormat.alignedBuffer(JournalFormat.BLOCK);
        header.encode(block);
        write(block, 0);
        force();
    }

    Path path() {
        return path;
    }

    long id() {
        return id;
    }

    boolean direct() {
        return direct;
    }

    /** Writes all remaining bytes of {@code src} at {@code position} (both 4096-multiples under O_DIRECT). */
    void write(ByteBuffer src, long position) throws IOException {
        long pos = position;
        while (src.hasRemaining()) {
            pos += channel.write(src, pos);
        }
        if (pacer != null) {
            pacer.onWrite(position, pos - position);
        }
    }

    /** fdatasync: the data written so far is on stable storage (the file size never changes after creation). */
    void force() throws IOException {
        channel.force(false);
    }

    @Override
    public void close() throws IOException {
        try {
            if (pacer != null) {
                pacer.close(); // drains and drops what is left; never throws
            }
        } finally {
            channel.close();
        }
    }

    /** Makes renames and creations in {@code dir} durable. Some filesystems refuse to open a directory; then the rename is as durable as they make it. */
    static void forceDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException e) {
            System.getLogger(SegmentFile.class.getName()).log(System.Logger.Level.DEBUG, "journal {0}: cannot force directory: {1}", dir, e);
        }
    }
}
