package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.journal.JournalOptions;
import dev.strata.engine.readcache.EvictionPolicy;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 1 of the engine: random histories of write / overwrite / trim / write-zeroes /
 * flush / upload-flush / reads / process crash / power cut / loss of the node / clean reopen,
 * checked against {@link VolumeModel}. After every crash the volume must come back as exactly
 * the state after some prefix of the acknowledged operations that includes every durable one.
 *
 * <p>Seeds: {@code -Dstrata.model.seeds=N} (default 400) starting at
 * {@code -Dstrata.model.firstSeed}; a failing seed is printed and replays alone with
 * {@code -Dstrata.model.seed=S}.
 */
class RandomHistoryMatchesReferenceTest {
    private static final int SECTORS = 2048; // a 1 MiB volume: small enough to verify whole after every crash
    private static final String VOLUME = "model";

    @TempDir
    Path tmp;

    @Test
    void everyRecoveredStateIsADurablePrefixOfTheHistory() throws Exception {
        String one = System.getProperty("strata.model.seed");
        long first = Long.getLong("strata.model.firstSeed", 1);
        int count = one != null ? 1 : Integer.getInteger("strata.model.seeds", 400);
        long start = one != null ? Long.parseLong(one) : first;
        long[] cacheTotals = new long[3];
        for (long seed = start; seed < start + count; seed++) {
            Path dir = tmp.resolve("seed-" + seed);
            try {
                new Run(seed, dir).run();
                Run.addCacheTotals(cacheTotals);
            } catch (Throwable t) {
                throw new AssertionError("model seed " + seed + " failed (replay with -Dstrata.model.seed=" + seed + "): " + t, t);
            }
            deleteTree(dir);
        }
        System.out.println("read cache over all runs: block hits " + cacheTotals[0] + ", fills " + cacheTotals[1]
                + ", evictions " + cacheTotals[2]);
        if (count >= 20) {
            // The cache must really have been in the read path, small enough to evict.
            if (cacheTotals[0] == 0 || cacheTotals[1] == 0 || cacheTotals[2] == 0) {
                fail("the read cache was not exercised: " + java.util.Arrays.toString(cacheTotals));
            }
        }
    }

    /** One seeded history. */
    private static final class Run {
        private final long seed;
        private final SplittableRandom rnd;
        private final Path dir;
        private final VolumeModel model = new VolumeModel(SECTORS);
        private final ObjectStore store;
        private final VolumeOptions options;
        private StrataEngine engine;
        private LogStructuredVolume volume;
        private int node = 1;
        private long nextTag = 1L << 16;
        private final StringBuilder trace = new StringBuilder();

        Run(long seed, Path dir) throws IOException {
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            this.dir = dir;
            this.store = new LocalDirectoryObjectStore(dir.resolve("bucket"));
            this.options = VolumeOptions.defaults()
                    .withObjectBytes(64 * 1024 * (1 + rnd.nextInt(4)))
                    .withMaxExtentsPerObject(16 + rnd.nextInt(200))
                    .withSealAfter(Duration.ofMillis(rnd.nextBoolean() ? 5 + rnd.nextInt(50) : 10_000))
                    .withMaxPendingBatches(2 + rnd.nextInt(8))
                    .withCheckpointEveryObjects(1 + rnd.nextInt(6))
                    .withJournal(JournalOptions.builder()
                            .segmentSize(256 * 1024 * (1 + rnd.nextInt(2)))
                            .maxSegments(4 + rnd.nextInt(6))
                            .maxEntryDataBytes(16 * 1024 * (1 + rnd.nextInt(4)))
                            .syncInterval(Duration.ofMillis(rnd.nextBoolean() ? 2 : 1000))
                            .directIo(dev.strata.engine.journal.DirectIoMode.OFF)
                            .build())
                    .withReadCache(smallReadCache(seed));
        }

        /**
         * A read cache of 2-9 blocks in 1-2 shards, so that fills, hits, evictions and slot reuse
         * all happen within a run (its own random source: the history's draws are unchanged).
         */
        private static ReadCacheOptions smallReadCache(long seed) {
            SplittableRandom r = new SplittableRandom(seed ^ 0x5EADCACEL);
            EvictionPolicy.Kind[] kinds = EvictionPolicy.Kind.values();
            return new ReadCacheOptions(64L * 1024 * (2 + r.nextInt(8)), 1 + r.nextInt(2), kinds[r.nextInt(kinds.length)]);
        }

        void run() throws Exception {
            lastOptions = options;
            engine = newEngine();
            engine.createVolume(VOLUME, (long) SECTORS * SectorPattern.SECTOR);
            volume = engine.openForWrite(VOLUME, options, false);
            int steps = 120 + rnd.nextInt(200);
            for (int i = 0; i < steps; i++) {
                step();
            }
            trace.append("close;");
            volume.close();
            // The bucket alone, read-only, on a node that never saw the volume: exactly the model.
            StrataEngine readerEngine = new StrataEngine(store, dir.resolve("reader"), "reader");
            ENGINES.add(readerEngine);
            try (LogStructuredVolume ro = readerEngine.openReadOnly(VOLUME, options)) {
                long[] got = readAll(ro);
                if (!VolumeModel.same(model.current(), got)) {
                    fail("read-only open from the bucket differs:" + VolumeModel.describeDifference(model.current(), got) + trace());
                }
            }
            store.close();
        }

        private StrataEngine newEngine() throws IOException {
            StrataEngine e = new StrataEngine(store, dir.resolve("node-" + node), "node-" + node);
            ENGINES.add(e);
            return e;
        }

        /** Engines of the last run, for the read cache totals. */
        private static final java.util.List<StrataEngine> ENGINES = new java.util.ArrayList<>();
        private static VolumeOptions lastOptions;

        static void addCacheTotals(long[] totals) {
            for (StrataEngine e : ENGINES) {
                var c = e.readCache(lastOptions);
                if (c != null) {
                    totals[0] += c.stats().blockHits.sum();
                    totals[1] += c.stats().fills.sum();
                    totals[2] += c.evictions();
                    try {
                        c.close(); // the run is over: release its files (runs never close their engines)
                    } catch (IOException ignored) {
                        // a cache: nothing to lose
                    }
                }
            }
            ENGINES.clear();
        }

        private void step() throws Exception {
            int r = rnd.nextInt(100);
            if (r < 38) {
                write(randomLba(), randomLength(), rnd.nextInt(10) == 0);
            } else if (r < 48) {
                overwrite();
            } else if (r < 54) {
                noData(true);
            } else if (r < 60) {
                noData(false);
            } else if (r < 70) {
                trace.append("flush;");
                volume.flush();
                model.markDurableLocal();
            } else if (r < 74) {
                trace.append("flushToBucket;");
                volume.flushToBucket();
                model.markDurableBucket();
            } else if (r < 86) {
                verifyRead();
            } else if (r < 90) {
                crash(false);
            } else if (r < 93) {
                crash(true);
            } else if (r < 96) {
                loseNode();
            } else {
                trace.append("close+reopen;");
                volume.close();
                volume = engine.openForWrite(VOLUME, options, false);
                expectExact("clean reopen");
            }
        }

        private long randomLba() {
            return rnd.nextInt(SECTORS);
        }

        private int randomLength() {
            int r = rnd.nextInt(10);
            return r < 6 ? 1 + rnd.nextInt(8) : r < 9 ? 1 + rnd.nextInt(64) : 1 + rnd.nextInt(600);
        }

        private void write(long lba, int sectors, boolean fua) throws IOException {
            sectors = (int) Math.min(sectors, SECTORS - lba);
            long tagBase = nextTag;
            nextTag += 1L << 16;
            ByteBuffer buf = ByteBuffer.allocate(sectors * SectorPattern.SECTOR);
            for (int i = 0; i < sectors; i++) {
                SectorPattern.fill(buf, tagBase + i, lba + i);
            }
            buf.flip();
            trace.append("w").append(fua ? "fua" : "").append('(').append(lba).append(',').append(sectors).append(");");
            volume.write(lba * SectorPattern.SECTOR, buf, fua);
            model.apply(new VolumeModel.Op(lba, sectors, tagBase));
            if (fua) {
                model.markDurableLocal();
            }
        }

        private void overwrite() throws IOException {
            // Overlap something recent: same start, or straddling a boundary of an earlier range.
            long lba = Math.max(0, randomLba() - rnd.nextInt(4));
            write(lba, 1 + rnd.nextInt(16), false);
        }

        private void noData(boolean trim) throws IOException {
            long lba = randomLba();
            int sectors = (int) Math.min(rnd.nextInt(10) == 0 ? SECTORS : randomLength(), SECTORS - lba);
            if (rnd.nextInt(20) == 0) {
                lba = 0;
                sectors = SECTORS; // the whole device
            }
            trace.append(trim ? "trim(" : "zero(").append(lba).append(',').append(sectors).append(");");
            if (trim) {
                volume.trim(lba * SectorPattern.SECTOR, (long) sectors * SectorPattern.SECTOR);
            } else {
                volume.writeZeroes(lba * SectorPattern.SECTOR, (long) sectors * SectorPattern.SECTOR, false);
            }
            model.apply(new VolumeModel.Op(lba, sectors, 0));
        }

        private void verifyRead() throws IOException {
            long lba = randomLba();
            int sectors = (int) Math.min(randomLength(), SECTORS - lba);
            ByteBuffer buf = ByteBuffer.allocate(sectors * SectorPattern.SECTOR);
            volume.read(lba * SectorPattern.SECTOR, buf);
            for (int i = 0; i < sectors; i++) {
                long got = SectorPattern.decode(buf, i * SectorPattern.SECTOR, lba + i);
                long want = model.current()[(int) (lba + i)];
                if (got != want) {
                    fail("read of sector " + (lba + i) + ": expected tag " + Long.toHexString(want) + " got "
                            + Long.toHexString(got) + trace());
                }
            }
        }

        /** The process dies (optionally with the power: un-synced journal bytes are lost too) and restarts. */
        private void crash(boolean powerCut) throws IOException {
            trace.append(powerCut ? "powercut;" : "crash;");
            volume.crashForTest(powerCut);
            volume = engine.openForWrite(VOLUME, options, false);
            int k = expectPrefix(model.durableLocal(), powerCut ? "power cut" : "process crash");
            model.truncate(k);
        }

        /** The node is gone with its disk: another node takes the volume over from the bucket alone. */
        private void loseNode() throws IOException {
            trace.append("loseNode;");
            volume.crashForTest(true);
            node++;
            engine = newEngine();
            try {
                engine.openForWrite(VOLUME, options, false);
                fail("a second node opened a held volume without taking it over" + trace());
            } catch (VolumeLockedException expected) {
                // the holder is named; take over explicitly
            }
            volume = engine.openForWrite(VOLUME, options, true);
            expectPrefix(model.durableBucket(), "node loss");
            model.rebase(readAll(volume));
            model.markDurableBucket();
        }

        private int expectPrefix(int minOps, String what) throws IOException {
            long[] got = readAll(volume);
            int k = model.matchPrefix(got, minOps);
            if (k < 0) {
                fail(what + ": recovered state is not the state after any prefix of at least " + minOps + " of "
                        + model.opCount() + " operations; vs. latest:" + VolumeModel.describeDifference(model.current(), got)
                        + "\n vs. the durable prefix:" + VolumeModel.describeDifference(model.stateAfter(minOps), got)
                        + trace());
            }
            trace.append("recovered ").append(k).append('/').append(model.opCount()).append(';');
            return k;
        }

        private void expectExact(String what) throws IOException {
            long[] got = readAll(volume);
            if (!VolumeModel.same(model.current(), got)) {
                fail(what + ": state differs:" + VolumeModel.describeDifference(model.current(), got) + trace());
            }
            model.rebase(got);
            model.markDurableBucket();
        }

        private String trace() {
            String t = trace.toString();
            return "\n seed " + seed + " trace (last 3000 chars): " + (t.length() > 3000 ? t.substring(t.length() - 3000) : t);
        }

        private static long[] readAll(Volume v) throws IOException {
            ByteBuffer buf = ByteBuffer.allocate(SECTORS * SectorPattern.SECTOR);
            v.read(0, buf);
            long[] tags = new long[SECTORS];
            for (int i = 0; i < SECTORS; i++) {
                tags[i] = SectorPattern.decode(buf, i * SectorPattern.SECTOR, i);
            }
            return tags;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }
}
