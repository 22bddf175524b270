package dev.strata.engine.readcache;

import dev.strata.engine.util.Crc32c;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The persisted index of one shard ({@code shard-NN.index}, format 1; docs/read-cache.md): a
 * fixed header naming the geometry it was written for, 48-byte entries, a trailing CRC32C.
 * Written whole to a temporary file, fsynced and renamed over the old one, so a reader sees the
 * old or the new index, and a torn one fails its CRC.
 */
final class ShardIndexFile {
    static final long MAGIC = 0x5354524154415243L; // "STRATARC"
    static final int VERSION = 1;
    static final int HEADER_BYTES = 40;
    /** Fixed part of an entry; then one CRC32C per 4 KiB page of the block. */
    static final int ENTRY_FIXED_BYTES = 48;

    static int entryBytes(int blockSize) {
        return ENTRY_FIXED_BYTES + 4 * CacheShard.pagesPerBlock(blockSize);
    }

    /** One persisted slot: its key, the object header's CRC of the block, its length, its page CRCs. */
    record Entry(int slot, BlockKey key, int crc, int length, int[] pageCrcs) {}

    /** What the shard expects the file to describe; anything else is someone else's index. */
    record Geometry(int shard, int shards, int blockSize, int slots) {}

    private ShardIndexFile() {}

    static void write(Path file, Geometry g, List<Entry> entries) throws IOException {
        int pages = CacheShard.pagesPerBlock(g.blockSize());
        ByteBuffer b = ByteBuffer.allocate(HEADER_BYTES + entryBytes(g.blockSize()) * entries.size() + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(MAGIC).putInt(VERSION).putInt(g.shard()).putInt(g.shards()).putInt(g.blockSize()).putInt(g.slots())
                .putInt(entries.size()).putLong(System.currentTimeMillis());
        for (Entry e : entries) {
            b.putInt(e.slot()).putInt(e.length()).putInt(e.crc()).putInt(e.key().block())
                    .putLong(e.key().volumeHigh()).putLong(e.key().volumeLow()).putLong(e.key().objectSeq()).putLong(e.key().epoch());
            for (int i = 0; i < pages; i++) {
                b.putInt(e.pageCrcs()[i]);
            }
        }
        b.putInt(Crc32c.of(b, 0, b.position()));
        b.flip();
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            while (b.hasRemaining()) {
                ch.write(b);
            }
            ch.force(true);
        }
        Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * The entries of a valid index for {@code g}; an empty list if there is no file.
     *
     * @throws IOException naming the file and what is wrong with it (the caller starts empty)
     */
    static List<Entry> read(Path file, Geometry g) throws IOException {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return List.of();
        }
        ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < HEADER_BYTES + 4) {
            throw new IOException(file + ": index truncated (" + bytes.length + " bytes)");
        }
        if (b.getLong(0) != MAGIC) {
            throw new IOException(file + ": bad magic, not a Strata read cache index");
        }
        int version = b.getInt(8);
        if (version != VERSION) {
            throw new IOException(file + ": unsupported read cache index version " + version);
        }
        int count = b.getInt(28);
        if (b.getInt(20) != g.blockSize()) {
            throw new IOException(file + ": written for block size " + b.getInt(20) + ", this cache uses " + g.blockSize());
        }
        int entryBytes = entryBytes(g.blockSize());
        int pages = CacheShard.pagesPerBlock(g.blockSize());
        long expected = HEADER_BYTES + (long) entryBytes * count + 4;
        if (count < 0 || expected != bytes.length) {
            throw new IOException(file + ": " + count + " entries need " + expected + " bytes, the file has " + bytes.length);
        }
        int stored = b.getInt(bytes.length - 4);
        int actual = Crc32c.of(bytes, 0, bytes.length - 4);
        if (stored != actual) {
            throw new IOException(String.format("%s: index CRC32C mismatch (stored %08x, computed %08x)", file, stored, actual));
        }
        Geometry found = new Geometry(b.getInt(12), b.getInt(16), b.getInt(20), b.getInt(24));
        if (!found.equals(g)) {
            throw new IOException(file + ": written for " + found + ", this cache is " + g);
        }
        List<Entry> out = new ArrayList<>(count);
        int p = HEADER_BYTES;
        for (int i = 0; i < count; i++, p += entryBytes) {
            int slot = b.getInt(p);
            int length = b.getInt(p + 4);
            if (slot < 0 || slot >= g.slots() || length < 1 || length > g.blockSize()) {
                continue; // cannot be ours; the rest may still be good
            }
            BlockKey key = new BlockKey(b.getLong(p + 16), b.getLong(p + 24), b.getLong(p + 32), b.getLong(p + 40), b.getInt(p + 12));
            int[] pageCrcs = new int[pages];
            for (int k = 0; k < pages; k++) {
                pageCrcs[k] = b.getInt(p + ENTRY_FIXED_BYTES + 4 * k);
            }
            out.add(new Entry(slot, key, b.getInt(p + 8), length, pageCrcs));
        }
        return out;
    }
}
