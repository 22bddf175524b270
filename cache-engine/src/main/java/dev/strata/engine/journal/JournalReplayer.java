package dev.strata.engine.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

/**
 * Reads a journal directory back: every segment in id order, every entry verified (magic,
 * version, lengths, CRC32C, segment id, sequence continuity within and across segments), the
 * records of the valid chain handed to a {@link RecordConsumer}. Stops at the first entry that
 * fails and reports where and why; never throws on corrupt bytes. Rules in docs/journal.md.
 *
 * <p>Single-threaded; call it on a directory no journal is writing to (before {@link Journal#open}).
 */
public final class JournalReplayer {
    private static final System.Logger LOG = System.getLogger(JournalReplayer.class.getName());

    private final Path dir;
    private final String volumeId;
    private final long fromSeqExclusive;
    /** Whether the chain must reach back to fromSeqExclusive + 1 (replay) or may start anywhere (open's rescan). */
    private final boolean anchored;
    private final RecordConsumer consumer;

    private final CRC32C crc = new CRC32C();
    private final ByteBuffer block = JournalFormat.alignedBuffer(JournalFormat.BLOCK);
    private final EntryBatch meta = new EntryBatch(0);
    private ByteBuffer data = ByteBuffer.allocateDirect(1 << 20);

    /** Next sequence number the chain expects; 0 while the chain has not started. */
    private long expected;
    private long firstSeq;
    private long records;
    private long entries;
    private boolean broken;
    /** Where the chain's valid data ends so far: the stop that will be reported. */
    private Stop stop;
    /** The consumer threw: its exception propagates instead of being reported as IO_ERROR. */
    private boolean consumerFailed;

    private record Stop(Path segment, long offset, StopReason reason, String detail) {
    }

    private JournalReplayer(Path dir, String volumeId, long fromSeqExclusive, boolean anchored, RecordConsumer consumer) {
        this.dir = dir;
        this.volumeId = volumeId;
        this.fromSeqExclusive = fromSeqExclusive;
        this.anchored = anchored;
        this.consumer = consumer;
    }

    /**
     * Replays the journal of {@code volumeId} in {@code dir}: calls {@code consumer} for every
     * valid record with a sequence number greater than {@code fromSeqExclusive}, in order.
     *
     * @throws IOException only if the directory cannot be listed or the consumer throws
     */
    public static ReplayResult replay(Path dir, String volumeId, long fromSeqExclusive, RecordConsumer consumer) throws IOException {
        java.util.Objects.requireNonNull(volumeId, "volumeId");
        java.util.Objects.requireNonNull(consumer, "consumer");
        if (fromSeqExclusive < 0) {
            throw new IllegalArgumentException("fromSeqExclusive must be >= 0, got " + fromSeqExclusive);
        }
        ReplayResult result = new JournalReplayer(dir, volumeId, fromSeqExclusive, true, consumer).run();
        log(result);
        return result;
    }

    /** For {@link Journal#open}: the whole valid chain, wherever it starts, delivering nothing. */
    static ReplayResult scan(Path dir, String volumeId) throws IOException {
        return new JournalReplayer(dir, volumeId, Long.MAX_VALUE, false, null).run();
    }

    /** Segment files in {@code dir} (any volume) with their ids, in id order. */
    static List<Path> listSegments(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> SegmentFile.parseId(p.getFileName().toString()) >= 0)
                    .sorted(Comparator.comparingLong(p -> SegmentFile.parseId(p.getFileName().toString())))
                    .toList();
        }
    }

    private ReplayResult run() throws IOException {
        List<SegmentSummary> summaries = new ArrayList<>();
        long chainLast = 0;
        boolean any = false;
        for (Path path : listSegments(dir)) {
            SegmentSummary s = scanSegment(path);
            summaries.add(s);
            if (s.role() == SegmentSummary.Role.CHAIN) {
                chainLast = s.lastSeq();
            }
            any |= s.role() != SegmentSummary.Role.FOREIGN;
        }
        if (!any) {
            stop = new Stop(null, 0, StopReason.NO_SEGMENTS, "no segment of volume " + volumeId + " in " + dir);
        }
        long last = Math.max(fromSeqExclusive == Long.MAX_VALUE ? 0 : fromSeqExclusive, chainLast);
        return new ReplayResult(last, firstSeq, chainLast, records, entries, stop.reason(), stop.segment(), stop.offset(),
                stop.detail(), broken, summaries);
    }

    private SegmentSummary scanSegment(Path path) throws IOException {
        long id = SegmentFile.parseId(path.getFileName().toString());
        long segFirst = 0;
        long segLast = 0;
        long segEntries = 0;
        long offset = 0;
        StopReason reason;
        String detail;
        SegmentHeader header;
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            String[] why = new String[1];
            header = readFully(ch, block, 0) < JournalFormat.BLOCK ? null : SegmentHeader.decode(block, why);
            if (header == null || header.segmentId() != id) {
                String what = header == null ? (why[0] == null ? "file shorter than a header block" : why[0])
                        : "header names segment id " + header.segmentId();
                if (!broken) {
                    noteEmpty(new Stop(path, 0, StopReason.BAD_SEGMENT_HEADER, what));
                }
                return new SegmentSummary(path, id, null, SegmentSummary.Role.INVALID_HEADER, 0, 0, 0, 0, StopReason.BAD_SEGMENT_HEADER, what);
            }
            if (!header.volumeId().equals(volumeId)) {
                LOG.log(System.Logger.Level.WARNING, "journal {0}: segment {1} belongs to volume {2}, not {3}; not replayed",
                        dir, path.getFileName(), header.volumeId(), volumeId);
                return new SegmentSummary(path, id, header.volumeId(), SegmentSummary.Role.FOREIGN, 0, 0, 0, 0, StopReason.END_OF_FILE,
                        "segment of volume " + header.volumeId());
            }
            if (broken) {
                return summary(path, id, SegmentSummary.Role.AFTER_BREAK, 0, 0, 0, 0, StopReason.SEQUENCE_GAP,
                        "after the point where the chain broke");
            }
            offset = JournalFormat.BLOCK;
            while (true) {
                long end;
                try {
                    end = readEntry(ch, size, offset, id);
                } catch (CorruptEntryException e) {
                    reason = e.reason();
                    detail = e.getMessage();
                    break;
                }
                if (expected == 0) {
                    if (anchored && meta.firstSeq > fromSeqExclusive + 1) {
                        breakChain(path, offset, "the oldest record in the journal is " + meta.firstSeq
                                + " but records after " + fromSeqExclusive + " were asked for");
                        return summary(path, id, SegmentSummary.Role.AFTER_BREAK, 0, 0, 0, offset, StopReason.SEQUENCE_GAP, stop.detail());
                    }
                    firstSeq = meta.firstSeq;
                } else if (meta.firstSeq != expected) {
                    String gap = "entry at offset " + offset + " starts at sequence " + meta.firstSeq + ", expected " + expected;
                    if (segEntries == 0) { // a later segment that does not continue the chain
                        breakChain(path, offset, path.getFileName() + ": " + gap);
                        return summary(path, id, SegmentSummary.Role.AFTER_BREAK, 0, 0, 0, offset, StopReason.SEQUENCE_GAP, gap);
                    }
                    reason = StopReason.SEQUENCE_GAP;
                    detail = gap;
                    break;
                }
                deliver(ch);
                if (segEntries == 0) {
                    segFirst = meta.firstSeq;
                }
                segLast = meta.lastSeq();
                segEntries++;
                entries++;
                expected = segLast + 1;
                stop = null;
                offset = end;
            }
        } catch (IOException e) {
            if (consumerFailed) {
                throw e;
            }
            reason = StopReason.IO_ERROR;
            detail = "reading " + path + " at offset " + offset + ": " + e;
        }
        Stop segStop = new Stop(path, offset, reason, detail);
        if (segEntries > 0) {
            stop = segStop;
        } else {
            noteEmpty(segStop);
        }
        return summary(path, id, segEntries > 0 ? SegmentSummary.Role.CHAIN : SegmentSummary.Role.EMPTY,
                segFirst, segLast, segEntries, offset, reason, detail);
    }

    private SegmentSummary summary(Path path, long id, SegmentSummary.Role role, long first, long last, long n, long offset,
                                   StopReason reason, String detail) {
        return new SegmentSummary(path, id, volumeId, role, first, last, n, offset, reason, detail);
    }

    /** A segment gave no record: its stop becomes the reported one if nothing better (damage) is known. */
    private void noteEmpty(Stop segStop) {
        if (stop == null || (segStop.reason().suspicious() && !stop.reason().suspicious())) {
            stop = segStop;
        }
    }

    /**
     * A segment does not continue the chain: nothing from here on is delivered. The reported
     * location stays where the valid data ends (that is where something was lost); the detail
     * says which segment failed to continue.
     */
    private void breakChain(Path path, long offset, String why) {
        broken = true;
        if (stop == null) {
            stop = new Stop(path, offset, StopReason.SEQUENCE_GAP, why);
        } else {
            stop = new Stop(stop.segment(), stop.offset(), stop.reason(), stop.detail() + "; then " + why);
        }
    }

    /** Hands the records of the entry in {@link #meta} (data in {@link #data}) to the consumer. */
    private void deliver(FileChannel ch) throws IOException {
        if (consumer == null) {
            return;
        }
        int dataAt = 0;
        for (int i = 0; i < meta.count; i++) {
            long seq = meta.firstSeq + i;
            RecordKind kind = RecordKind.fromCode(meta.kinds[i]);
            int len = kind.hasData() ? meta.sectors[i] * JournalFormat.SECTOR : 0;
            if (seq > fromSeqExclusive) {
                ByteBuffer view = kind.hasData() ? data.slice(dataAt, len).asReadOnlyBuffer() : null;
                try {
                    consumer.record(seq, meta.epochs[i], meta.lbas[i], meta.sectors[i], kind, view);
                } catch (IOException | RuntimeException e) {
                    consumerFailed = true;
                    throw e;
                }
                records++;
            }
            dataAt += len;
        }
    }

    /**
     * Reads and verifies the entry at {@code offset} into {@link #meta} and {@link #data}.
     *
     * @return the offset just after the entry
     */
    private long readEntry(FileChannel ch, long size, long offset, long segmentId) throws IOException, CorruptEntryException {
        if (offset >= size) {
            throw new CorruptEntryException(StopReason.END_OF_FILE, "end of file at offset " + offset);
        }
        if (readFully(ch, block, offset) < JournalFormat.BLOCK) {
            throw new CorruptEntryException(StopReason.TORN, "only " + (size - offset) + " bytes left for a header block");
        }
        EntryHeader.decode(block, meta);
        long end = offset + EntryHeader.entryBytes(meta.dataBytes);
        if (end > size) {
            throw new CorruptEntryException(StopReason.TORN, "entry of " + meta.dataBytes + " data bytes runs past the end of the file ("
                    + size + " bytes)");
        }
        if (data.capacity() < meta.dataBytes) {
            data = ByteBuffer.allocateDirect((int) JournalFormat.roundUpToBlock(meta.dataBytes));
        }
        ByteBuffer dst = data.clear().limit(meta.dataBytes);
        if (readFully(ch, dst, offset + JournalFormat.BLOCK) < meta.dataBytes) {
            throw new CorruptEntryException(StopReason.TORN, "data ends early");
        }
        EntryHeader.verifyCrc(block, data, meta.dataBytes, crc);
        long entrySegment = EntryHeader.segmentId(block);
        if (entrySegment != segmentId) {
            throw new CorruptEntryException(StopReason.WRONG_SEGMENT, "entry written as part of segment " + entrySegment
                    + " (stale bytes of a recycled file)");
        }
        return end;
    }

    /** Reads until {@code dst} is full or the file ends; returns the bytes read. Leaves dst's position/limit as given. */
    private static int readFully(FileChannel ch, ByteBuffer dst, long position) throws IOException {
        ByteBuffer b = dst.duplicate().clear().limit(dst.limit());
        int n = 0;
        while (b.hasRemaining()) {
            int r = ch.read(b, position + n);
            if (r < 0) {
                break;
            }
            n += r;
        }
        return n;
    }

    private static void log(ReplayResult r) {
        boolean bad = r.chainBroken() || r.stopReason().suspicious();
        LOG.log(bad ? System.Logger.Level.WARNING : System.Logger.Level.INFO, "journal replay: {0}", r.describe());
    }
}
