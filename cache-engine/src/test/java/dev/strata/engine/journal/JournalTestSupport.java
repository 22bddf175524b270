package dev.strata.engine.journal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.strata.engine.pacing.PacingPolicy;
import dev.strata.engine.util.DirectIoMode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/** Shared helpers: small journals, random records, replay into a list, the on-disk layout. */
final class JournalTestSupport {
    static final String VOLUME = "pvc-0b1c2d3e-journal-test";
    static final int MAX_ENTRY = 64 << 10;
    static final PacingPolicy PACING = PacingPolicy.chunks(16 << 10, 32 << 10, 128 << 10);

    private JournalTestSupport() {
    }

    /** One record as appended or replayed; data null for TRIM/ZERO. */
    record Rec(long seq, long epoch, long lba, int sectors, RecordKind kind, byte[] data) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Rec r && r.seq == seq && r.epoch == epoch && r.lba == lba && r.sectors == sectors && r.kind == kind
                    && Arrays.equals(r.data, data);
        }

        @Override
        public int hashCode() {
            return Long.hashCode(seq);
        }

        @Override
        public String toString() {
            return "Rec[seq=" + seq + ", lba=" + lba + ", sectors=" + sectors + ", " + kind + "]";
        }
    }

    static JournalOptions.Builder small(DirectIoMode mode) {
        return JournalOptions.builder()
                .segmentSize(256 << 10)
                .maxSegments(64)
                .maxEntryDataBytes(MAX_ENTRY)
                .syncInterval(Duration.ofSeconds(1))
                .directIo(mode)
                // chunks small enough that buffered test journals (256 KiB segments) really get paced
                .writebackPacing(PACING);
    }

    static JournalOptions small() {
        return small(DirectIoMode.OFF).build();
    }

    /** A random record without a sequence number yet (seq 0): mostly small WRITEs, some TRIM/ZERO. */
    static Rec randomRecord(Random rnd, int maxSectors) {
        int k = rnd.nextInt(10);
        RecordKind kind = k < 7 ? RecordKind.WRITE : k < 9 ? RecordKind.TRIM : RecordKind.ZERO;
        int sectors = 1 + rnd.nextInt(maxSectors);
        byte[] data = null;
        if (kind == RecordKind.WRITE) {
            data = new byte[sectors * 512];
            rnd.nextBytes(data);
        }
        return new Rec(0, rnd.nextInt(4) + 1, rnd.nextLong(1L << 30), sectors, kind, data);
    }

    /** Appends {@code r}; returns the records as the journal numbered them (several if split). */
    static List<Rec> append(Journal j, Rec r) throws Exception {
        ByteBuffer data = r.data == null ? null : ByteBuffer.allocateDirect(r.data.length).put(r.data).flip();
        long last = j.append(r.epoch, r.lba, r.sectors, r.kind, data);
        List<Rec> out = new ArrayList<>();
        if (r.kind != RecordKind.WRITE) {
            out.add(new Rec(last, r.epoch, r.lba, r.sectors, r.kind, null));
            return out;
        }
        int per = j.options().maxEntryDataBytes() / 512;
        int pieces = (r.sectors + per - 1) / per;
        for (int i = 0; i < pieces; i++) {
            int n = Math.min(per, r.sectors - i * per);
            byte[] d = Arrays.copyOfRange(r.data, i * per * 512, (i * per + n) * 512);
            out.add(new Rec(last - pieces + 1 + i, r.epoch, r.lba + (long) i * per, n, r.kind, d));
        }
        return out;
    }

    static List<Rec> appendRandom(Journal j, Random rnd, int count, int maxSectors) throws Exception {
        List<Rec> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.addAll(append(j, randomRecord(rnd, maxSectors)));
        }
        return out;
    }

    /** A replay's records and result. */
    record Replayed(List<Rec> records, ReplayResult result) {
    }

    static Replayed replay(Path dir, long from) throws IOException {
        return replay(dir, VOLUME, from);
    }

    static Replayed replay(Path dir, String volume, long from) throws IOException {
        List<Rec> out = new ArrayList<>();
        ReplayResult r = JournalReplayer.replay(dir, volume, from, (seq, epoch, lba, sectors, kind, data) -> {
            byte[] d = null;
            if (data != null) {
                d = new byte[data.remaining()];
                data.get(d);
            }
            out.add(new Rec(seq, epoch, lba, sectors, kind, d));
        });
        assertEquals(out.size(), r.recordsReplayed());
        return new Replayed(out, r);
    }

    /** Where one entry lies on disk. {@code index} = position of its segment in id order. */
    record EntryPos(Path segment, int index, long offset, int dataBytes, long firstSeq, int count) {
        long end() {
            return offset + EntryHeader.entryBytes(dataBytes);
        }

        long lastSeq() {
            return firstSeq + count - 1;
        }
    }

    /** The entries of the valid chain, in order, read from the headers of an intact journal. */
    static List<EntryPos> layout(Path dir) throws IOException {
        ReplayResult scan = JournalReplayer.scan(dir, VOLUME);
        List<EntryPos> out = new ArrayList<>();
        EntryBatch meta = new EntryBatch(0);
        for (int i = 0; i < scan.segments().size(); i++) {
            SegmentSummary s = scan.segments().get(i);
            if (s.role() != SegmentSummary.Role.CHAIN) {
                continue;
            }
            try (FileChannel ch = FileChannel.open(s.path(), StandardOpenOption.READ)) {
                long off = JournalFormat.BLOCK;
                while (off < s.endOffset()) {
                    ByteBuffer h = ByteBuffer.allocate(JournalFormat.BLOCK);
                    ch.read(h, off);
                    try {
                        EntryHeader.decode(h, meta);
                    } catch (CorruptEntryException e) {
                        throw new AssertionError(e);
                    }
                    out.add(new EntryPos(s.path(), i, off, meta.dataBytes, meta.firstSeq, meta.count));
                    off += EntryHeader.entryBytes(meta.dataBytes);
                }
            }
        }
        return out;
    }

    static List<Path> segmentFiles(Path dir) throws IOException {
        return JournalReplayer.listSegments(dir);
    }

    static void copyDir(Path from, Path to) throws IOException {
        Files.createDirectories(to);
        try (Stream<Path> files = Files.list(from)) {
            for (Path p : files.toList()) {
                Files.copy(p, to.resolve(p.getFileName()), StandardCopyOption.REPLACE_EXISTING);
            }
        }
    }

    /** The records with seq ≤ last. */
    static List<Rec> prefix(List<Rec> all, long last) {
        return all.stream().filter(r -> r.seq <= last).toList();
    }
}
