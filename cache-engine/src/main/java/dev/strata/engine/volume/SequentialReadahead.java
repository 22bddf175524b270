package dev.strata.engine.volume;

import dev.strata.engine.extentmap.ExtentMap;
import dev.strata.engine.extentmap.Locations;
import dev.strata.engine.objectlog.ObjectReader;
import java.util.List;

/**
 * Volume-level readahead (docs/read-cache.md, "Readahead"): recognises sequential readers by the
 * volume offsets they read and keeps a window of {@code windowBytes} ahead of each fetched or in
 * flight, in ranged GETs of {@code getBytes}. It works on volume offsets, not object offsets,
 * so a stream crosses from one object into the next without a pause (a volume written
 * sequentially is a chain of 8 MiB objects; per-object readahead stalled at every boundary on a
 * header GET and a GET of the reader's own).
 *
 * <p>A read continues a stream when it reaches the stream's end or starts a little beyond it (NBD
 * clients with several sequential reads in flight deliver them a little out of order); a read
 * of the stream's recent past changes nothing; any other read starts a new stream (replacing the
 * least recently used of {@value #STREAMS}) and prefetches nothing. A stream prefetches only once
 * it has been continued {@value #CONFIRMING_READS} times: random reads at a high queue depth land
 * just past one of the streams' ends every few thousand reads, and on a volume written randomly
 * a window of 4 MiB maps to up to a thousand different 64 KiB blocks — every such false stream
 * fetched ~64 MiB (measured: 2 GiB of readahead GETs in 12 s of 4 KiB random reads at QD32).
 * Prefetches are issued a whole GET at a time, so small reads do not turn into small GETs. Which objects hold the window is the
 * {@link Target}'s business (a map lookup).
 *
 * <p>Concurrency: every reader thread calls {@link #onRead}; {@link #streams} is guarded by this
 * object's monitor, held only to update offsets. The prefetch itself runs after the monitor is
 * released and never blocks on a GET.
 */
final class SequentialReadahead {
    /** Prefetches the stored data of volume bytes {@code [offset, offset + length)}. */
    interface Target {
        void prefetch(long offset, long length);
    }

    private static final int STREAMS = 8;
    /** Reads that continue a stream before it prefetches (a stream is then three sequential reads). */
    static final int CONFIRMING_READS = 2;

    private final long windowBytes;
    private final long getBytes;
    private final Target target;
    /** Guarded by this. */
    private final Stream[] streams = new Stream[STREAMS];
    /** Guarded by this: a clock for least-recently-used replacement of streams. */
    private long tick;

    private static final class Stream {
        long next;
        long prefetchedTo;
        long used;
        /** Reads that continued this stream, counted up to {@link #CONFIRMING_READS}. */
        int continued;
    }

    SequentialReadahead(long windowBytes, long getBytes, Target target) {
        if (getBytes <= 0 || windowBytes < getBytes) {
            throw new IllegalArgumentException("readahead window " + windowBytes + " must hold at least one GET of " + getBytes);
        }
        this.windowBytes = windowBytes;
        this.getBytes = getBytes;
        this.target = target;
        for (int i = 0; i < STREAMS; i++) {
            streams[i] = new Stream();
            streams[i].next = Long.MIN_VALUE / 2; // matches no read
        }
    }

    /** A read of {@code [offset, offset + length)} is about to be served. */
    void onRead(long offset, long length) {
        long from;
        long to;
        long end = offset + length;
        synchronized (this) {
            tick++;
            Stream s = null;
            for (Stream t : streams) {
                if (continues(t, offset, end)) {
                    s = t;
                    break;
                }
                if (end < t.next && offset >= t.next - windowBytes) {
                    t.used = tick; // a read of a stream's recent past (delivered late): nothing to do
                    return;
                }
            }
            if (s == null) {
                s = leastRecentlyUsed();
                s.next = end;
                s.prefetchedTo = end;
                s.used = tick;
                s.continued = 0;
                return;
            }
            s.used = tick;
            s.next = Math.max(s.next, end);
            if (s.continued < CONFIRMING_READS && ++s.continued < CONFIRMING_READS) {
                s.prefetchedTo = s.next;
                return; // not a stream yet
            }
            from = Math.max(s.prefetchedTo, s.next);
            to = s.next + windowBytes;
            if (to - from < getBytes) {
                return; // less than one whole GET to add: wait for the reader to move on
            }
            s.prefetchedTo = to;
        }
        target.prefetch(from, to - from);
    }

    /**
     * Whether a read moves stream {@code s} on: it reaches the stream's end, or starts a little
     * beyond it (a read delivered before its predecessor; at most four reads' worth, one GET).
     */
    private boolean continues(Stream s, long offset, long end) {
        long skip = Math.min(getBytes, 4 * (end - offset));
        return offset <= s.next ? end >= s.next : offset - s.next <= skip;
    }

    private Stream leastRecentlyUsed() {
        Stream lru = streams[0];
        for (Stream s : streams) {
            if (s.used < lru.used) {
                lru = s;
            }
        }
        return lru;
    }

    /** Resolves the epoch of a stored object, or -1 if the readahead should skip it (in memory, unknown). */
    interface Epochs {
        long epochOf(long seq);
    }

    /**
     * Prefetches the stored runs of a map lookup ({@code {lba, sectors, location}} each): runs
     * that continue each other inside one object are merged first, so a fragmented map still
     * prefetches in whole GETs.
     */
    static void prefetchRuns(List<long[]> runs, Epochs epochs, ObjectReader reader, int sectorSize) {
        long seq = -1;
        long epoch = -1;
        long start = 0;
        long end = 0;
        for (long[] run : runs) {
            long loc = run[2];
            if (loc == ExtentMap.UNMAPPED || ZeroExtents.isZero(loc)) {
                continue;
            }
            long s = Locations.objectSeq(loc);
            long from = Locations.offsetSectors(loc) * (long) sectorSize;
            long to = from + run[1] * sectorSize;
            if (s == seq && from == end) {
                end = to;
                continue;
            }
            if (seq >= 0 && epoch >= 0) {
                reader.prefetch(seq, epoch, start, end - start);
            }
            seq = s;
            epoch = epochs.epochOf(s);
            start = from;
            end = to;
        }
        if (seq >= 0 && epoch >= 0) {
            reader.prefetch(seq, epoch, start, end - start);
        }
    }
}
