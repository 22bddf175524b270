package dev.strata.engine.volume;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.ObjectReader;
import dev.strata.engine.objectlog.ObjectTable;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * A snapshot, read-only: its frozen map over the volume's immutable objects, and, if the
 * volume is a clone, its parent snapshot underneath for the LBAs the map leaves unmapped.
 * Nothing here changes after construction, so reads need no lock.
 */
public final class SnapshotView implements Volume {
    private final SnapshotRecord record;
    private final long sizeBytes;
    private final ExtentMap map;
    private final ObjectTable objects;
    private final ObjectReader reader;
    private final SnapshotView parent;
    private volatile boolean closed;

    SnapshotView(SnapshotRecord record, long sizeBytes, ExtentMap map, ObjectTable objects, ObjectReader reader,
            SnapshotView parent) {
        this.record = record;
        this.sizeBytes = sizeBytes;
        this.map = map;
        this.objects = objects;
        this.reader = reader;
        this.parent = parent;
    }

    public SnapshotRecord record() {
        return record;
    }

    /** {@code VOLUME@SNAPSHOT}. */
    @Override
    public String name() {
        return record.volume() + "@" + record.snapshot();
    }

    @Override
    public long size() {
        return sizeBytes;
    }

    @Override
    public boolean isReadOnly() {
        return true;
    }

    @Override
    public void read(long offset, ByteBuffer dst) throws IOException {
        int length = dst.remaining();
        checkRange("read", offset, length);
        List<long[]> runs = new ArrayList<>(4);
        map.lookup(offset / SECTOR_SIZE, length / SECTOR_SIZE, (l, n, loc) -> runs.add(new long[] {l, n, loc}));
        for (long[] run : runs) {
            int bytes = (int) (run[1] * SECTOR_SIZE);
            if (run[2] == ExtentMap.UNMAPPED) {
                ZeroExtents.readUnmapped(parent, run[0], bytes, dst);
            } else if (ZeroExtents.isZero(run[2])) {
                ZeroExtents.fill(dst, bytes);
            } else {
                long seq = Locations.objectSeq(run[2]);
                try {
                    reader.read(seq, epochOf(seq, run[0]), Locations.offsetSectors(run[2]) * (long) SECTOR_SIZE, dst, bytes);
                } catch (CorruptDataException c) {
                    throw new CorruptDataException(name() + " LBA " + run[0] + ": " + c.getMessage());
                }
            }
        }
    }

    /** The table lists objects up to C; C+1..R were all written by the snapshot's epoch (SnapshotRecord). */
    private long epochOf(long seq, long lba) throws CorruptDataException {
        ObjectTable.Entry e = objects.get(seq);
        if (e != null) {
            return e.epoch;
        }
        if (seq > record.coveredSeq() && seq <= record.objectSeq()) {
            return record.epoch();
        }
        throw new CorruptDataException(name() + ": LBA " + lba + " maps to object " + seq + ", outside the snapshot's objects");
    }

    @Override
    public List<AllocationRun> allocation(long offset, long length, int maxRuns) throws IOException {
        checkRange("block status", offset, length);
        AllocationRuns runs = new AllocationRuns(maxRuns, parent != null);
        map.lookup(offset / SECTOR_SIZE, length / SECTOR_SIZE, runs);
        return runs.runs();
    }

    @Override
    public void write(long offset, ByteBuffer src, boolean fua) throws IOException {
        throw readOnly();
    }

    @Override
    public void flush() throws IOException {
        checkOpen();
    }

    @Override
    public void trim(long offset, long length) throws IOException {
        throw readOnly();
    }

    @Override
    public void writeZeroes(long offset, long length, boolean fua) throws IOException {
        throw readOnly();
    }

    @Override
    public void close() {
        closed = true;
        if (parent != null) {
            parent.close();
        }
    }

    private ReadOnlyVolumeException readOnly() throws VolumeClosedException {
        checkOpen();
        return new ReadOnlyVolumeException("snapshot " + name() + " is read-only");
    }

    private void checkOpen() throws VolumeClosedException {
        if (closed) {
            throw new VolumeClosedException("snapshot " + name() + " is closed");
        }
    }

    private void checkRange(String what, long offset, long length) throws IOException {
        checkOpen();
        if (offset < 0 || length < 0 || offset % SECTOR_SIZE != 0 || length % SECTOR_SIZE != 0 || offset + length > sizeBytes) {
            throw new OutOfRangeException(what + " of snapshot " + name() + " at offset " + offset + " length " + length
                    + ": not aligned to " + SECTOR_SIZE + " bytes or past the end (" + sizeBytes + " bytes)");
        }
    }
}
