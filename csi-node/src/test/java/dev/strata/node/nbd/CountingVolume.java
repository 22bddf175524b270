package dev.strata.node.nbd;

import dev.strata.engine.volume.Volume;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Passes every call through to a real {@link Volume} (the engine's or {@link MemoryVolume}) and
 * counts the calls that reached it, so client tests can check that FUA, FLUSH, TRIM and
 * WRITE_ZEROES arrived whatever sits behind the server.
 */
final class CountingVolume implements Volume {
    private final Volume inner;

    final AtomicLong writes = new AtomicLong();
    final AtomicLong fuaWrites = new AtomicLong();
    final AtomicLong flushes = new AtomicLong();
    final AtomicLong trims = new AtomicLong();
    final AtomicLong zeroes = new AtomicLong();

    CountingVolume(Volume inner) {
        this.inner = inner;
    }

    Volume inner() {
        return inner;
    }

    @Override
    public String name() {
        return inner.name();
    }

    @Override
    public long size() {
        return inner.size();
    }

    @Override
    public int sectorSize() {
        return inner.sectorSize();
    }

    @Override
    public int preferredBlockSize() {
        return inner.preferredBlockSize();
    }

    @Override
    public boolean isReadOnly() {
        return inner.isReadOnly();
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        inner.read(offset, dst);
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        inner.write(offset, src, fua);
        writes.incrementAndGet();
        if (fua) {
            fuaWrites.incrementAndGet();
        }
    }

    @Override
    public void flush() throws IOException {
        inner.flush();
        flushes.incrementAndGet();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        inner.trim(offset, length);
        trims.incrementAndGet();
    }

    @Override
    public void writeZeroes(long offset, long length, boolean fua) throws IOException {
        inner.writeZeroes(offset, length, fua);
        zeroes.incrementAndGet();
    }

    @Override
    public List<AllocationRun> allocation(long offset, long length, int maxRuns) throws IOException {
        return inner.allocation(offset, length, maxRuns);
    }

    @Override
    public void close() throws IOException {
        inner.close();
    }

    /** Copy of bytes, for assertions. */
    byte[] bytes(long offset, int length) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(length);
        inner.read(offset, b);
        return b.array();
    }

    /** Bytes holding data (not holes), from the volume's own allocation map. */
    long allocatedBytes() throws IOException {
        long total = 0;
        for (AllocationRun r : inner.allocation(0, inner.size(), Integer.MAX_VALUE)) {
            if (!r.hole()) {
                total += r.length();
            }
        }
        return total;
    }
}
