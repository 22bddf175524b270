package dev.strata.node.nbd;

import dev.strata.engine.volume.OutOfRangeException;
import dev.strata.engine.volume.ReadOnlyVolumeException;
import dev.strata.engine.volume.Volume;
import dev.strata.engine.volume.VolumeClosedException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32C;

/**
 * Test-only sparse volume: 4 KiB blocks in a HashMap, absent = hole. One lock around the map is
 * plenty for tests. Honours the {@link Volume} contract (bounds, alignment, read-only, closed).
 * Counters let tests check that FUA and FLUSH reached the volume.
 */
class MemoryVolume implements Volume {
    static final int BLOCK = 4096;

    private final String name;
    private final long size;
    private final boolean readOnly;
    private final Map<Long, byte[]> blocks = new HashMap<>();
    private volatile boolean closed;

    final AtomicLong writes = new AtomicLong();
    final AtomicLong fuaWrites = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong trims = new AtomicLong();
    final AtomicLong zeroes = new AtomicLong();

    MemoryVolume(String name, long size, boolean readOnly) {
        if (size % SECTOR_SIZE != 0) {
            throw new IllegalArgumentException("size " + size);
        }
        this.name = name;
        this.size = size;
        this.readOnly = readOnly;
    }

    MemoryVolume(String name, long size) {
        this(name, size, false);
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public boolean isReadOnly() {
        return readOnly;
    }

    private void check(long offset, long length, boolean write) throws IOException {
        if (closed) {
            throw new VolumeClosedException(name + " is closed");
        }
        if (write && readOnly) {
            throw new ReadOnlyVolumeException(name + " is read-only");
        }
        if (offset < 0 || length < 0 || offset % SECTOR_SIZE != 0 || length % SECTOR_SIZE != 0
                || offset > size || length > size - offset) {
            throw new OutOfRangeException(name + ": offset " + offset + " length " + length + " size " + size);
        }
    }

    @Override
    public synchronized void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        check(offset, length, false);
        long pos = offset;
        while (dst.hasRemaining()) {
            long block = pos / BLOCK;
            int in = (int) (pos % BLOCK);
            int n = Math.min(BLOCK - in, dst.remaining());
            byte[] b = blocks.get(block);
            if (b == null) {
                for (int i = 0; i < n; i++) {
                    dst.put((byte) 0);
                }
            } else {
                dst.put(b, in, n);
            }
            pos += n;
        }
    }

    @Override
    public synchronized void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        check(offset, src.remaining(), true);
        writes.incrementAndGet();
        if (fua) {
            fuaWrites.incrementAndGet();
        }
        long pos = offset;
        while (src.hasRemaining()) {
            long block = pos / BLOCK;
            int in = (int) (pos % BLOCK);
            int n = Math.min(BLOCK - in, src.remaining());
            byte[] b = blocks.computeIfAbsent(block, k -> new byte[BLOCK]);
            src.get(b, in, n);
            pos += n;
        }
    }

    @Override
    public void flush() throws IOException {
        check(0, 0, false);
        flushes.incrementAndGet();
    }

    @Override
    public synchronized void trim(long offset, long length) throws IOException {
        check(offset, length, true);
        trims.incrementAndGet();
        zero(offset, length);
    }

    @Override
    public synchronized void writeZeroes(long offset, long length, boolean fua) throws IOException {
        check(offset, length, true);
        zeroes.incrementAndGet();
        zero(offset, length);
    }

    private void zero(long offset, long length) {
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            long block = pos / BLOCK;
            int in = (int) (pos % BLOCK);
            int n = (int) Math.min(BLOCK - in, end - pos);
            if (n == BLOCK) {
                blocks.remove(block);
            } else {
                byte[] b = blocks.get(block);
                if (b != null) {
                    java.util.Arrays.fill(b, in, in + n, (byte) 0);
                }
            }
            pos += n;
        }
    }

    @Override
    public synchronized List<AllocationRun> allocation(long offset, long length, int maxRuns) throws IOException {
        check(offset, length, false);
        List<AllocationRun> runs = new ArrayList<>();
        long pos = offset;
        long end = offset + length;
        long runStart = pos;
        Boolean runHole = null;
        while (pos < end) {
            long block = pos / BLOCK;
            long next = Math.min((block + 1) * BLOCK, end);
            boolean hole = !blocks.containsKey(block);
            if (runHole != null && hole != runHole) {
                runs.add(new AllocationRun(pos - runStart, runHole));
                if (runs.size() == maxRuns) {
                    return runs;
                }
                runStart = pos;
            }
            runHole = hole;
            pos = next;
        }
        if (runHole != null) {
            runs.add(new AllocationRun(pos - runStart, runHole));
        }
        return runs;
    }

    @Override
    public void close() {
        closed = true;
    }

    /** Blocks holding data (not holes). */
    synchronized int allocatedBlocks() {
        return blocks.size();
    }

    /** CRC32C of the whole volume content, holes as zeros. */
    synchronized long checksum() {
        CRC32C crc = new CRC32C();
        byte[] zero = new byte[BLOCK];
        for (long b = 0; b < (size + BLOCK - 1) / BLOCK; b++) {
            int n = (int) Math.min(BLOCK, size - b * BLOCK);
            byte[] data = blocks.get(b);
            crc.update(data == null ? zero : data, 0, n);
        }
        return crc.getValue();
    }

    /** Copy of bytes, for assertions. */
    byte[] bytes(long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        read(offset, b);
        return b.array();
    }
}
