package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.fail;

import dev.strata.engine.journal.JournalOptions;
import dev.strata.engine.readcache.EvictionPolicy;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Acceptance 1 of the engine: random histories of write / overwrite / trim / write-zeroes /
 * flush / upload-flush / reads / process crash / power cut / loss of the node / clean reopen,
 * checked against {@link VolumeModel}; in a fraction of the seeds also snapshot create / delete,
 * clone create / write / delete and delete of the volume under test, interleaved with the rest
 * (so snapshots are taken across crashes and node loss), every live snapshot and clone checked
 * against its own reference at the end, then everything deleted down to an empty bucket. After every crash the volume must come back as exactly
 * the state after some prefix of the acknowledged operations that includes every durable one.
 *
 * <p>The sequential write coalescer (docs/coalescer.md) is on for about half the seeds (its own
 * random source: {@code -Dstrata.model.coalescer=on|off|random}); those seeds also write
 * sequential streams of small writes. {@link #coalescedSequentialHistoriesRecoverAsPrefixes}
 * runs more seeds with it always on ({@code -Dstrata.model.coalescerSeeds=N}, default 300).
 *
 * <p>The large-write bypass (docs/write-paths.md) is on in one seed in three ({@code
 * -Dstrata.model.bypassEvery=N}, 0 turns it off; its own random source), with a threshold of
 * 4-16 KiB and three writes in four made 4 KiB-aligned (a third of those up to an object long); after a crash the model leaves out the
 * bypassed writes the replay found without their object (old or new per write).
 *
 * <p>Seeds: {@code -Dstrata.model.seeds=N} (default 3000) starting at
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
        int count = one != null ? 1 : Integer.getInteger("strata.model.seeds", 3000);
        long start = one != null ? Long.parseLong(one) : first;
        // Memory-backed when the machine has it: the crashes here are simulated by the engine's own
        // hooks (a power cut tears the journal's unforced tail), so real fsyncs only cost time.
        Path root = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                ? Files.createTempDirectory(Path.of("/dev/shm"), "strata-model-") : tmp;
        try {
            runSeeds(root, start, count, System.getProperty("strata.model.coalescer", "random"));
        } finally {
            if (root != tmp) {
                deleteTree(root);
            }
        }
        System.out.println("snapshot operations over all runs: snapshots " + SNAPSHOT_TOTALS.get(0) + ", clones "
                + SNAPSHOT_TOTALS.get(1) + ", snapshot deletes " + SNAPSHOT_TOTALS.get(2) + ", clone deletes " + SNAPSHOT_TOTALS.get(3)
                + ", volume deletes " + SNAPSHOT_TOTALS.get(4) + ", snapshots and clones checked at the end " + SNAPSHOT_TOTALS.get(5));
        if (count >= 40 && Integer.getInteger("strata.model.snapshotEvery", 4) > 0) {
            for (int i = 0; i < 6; i++) {
                if (SNAPSHOT_TOTALS.get(i) == 0) {
                    fail("snapshot operations were not all exercised: " + SNAPSHOT_TOTALS);
                }
            }
        }
        System.out.println("read cache over all runs: block hits " + CACHE_TOTALS.get(0) + ", fills " + CACHE_TOTALS.get(1)
                + ", evictions " + CACHE_TOTALS.get(2));
        System.out.println("large-write bypass over all runs: seeds " + BYPASS_TOTALS.get(0) + ", bypassed writes "
                + BYPASS_TOTALS.get(1) + ", lost in crashes (unflushed) " + BYPASS_TOTALS.get(2));
        if (count >= 40 && Integer.getInteger("strata.model.bypassEvery", 3) > 0
                && (BYPASS_TOTALS.get(1) == 0 || BYPASS_TOTALS.get(2) == 0)) {
            fail("the large-write bypass was not exercised (bypassed, lost): " + BYPASS_TOTALS);
        }
        System.out.println("garbage collection over all runs: objects compacted " + GC_TOTALS.get(0) + ", GC objects "
                + GC_TOTALS.get(1) + ", objects deleted " + GC_TOTALS.get(2));
        if (count >= 20 && (GC_TOTALS.get(0) == 0 || GC_TOTALS.get(1) == 0 || GC_TOTALS.get(2) == 0)) {
            fail("garbage collection was not exercised: " + GC_TOTALS);
        }
        if (count >= 20) {
            // The cache must really have been in the read path, small enough to evict.
            if (CACHE_TOTALS.get(0) == 0 || CACHE_TOTALS.get(1) == 0 || CACHE_TOTALS.get(2) == 0) {
                fail("the read cache was not exercised: " + CACHE_TOTALS);
            }
        }
    }

    /**
     * The engine model with the coalescer always on and sequential streams of small writes in
     * every history: after every crash, the state is a prefix of the writes that includes every
     * durable one, though unfinished clusters lose their pending bytes.
     */
    @Test
    void coalescedSequentialHistoriesRecoverAsPrefixes() throws Exception {
        String one = System.getProperty("strata.model.seed");
        int count = one != null ? 1 : Integer.getInteger("strata.model.coalescerSeeds", 300);
        long start = one != null ? Long.parseLong(one) : 1_000_001;
        Path root = Files.isDirectory(Path.of("/dev/shm")) && Files.isWritable(Path.of("/dev/shm"))
                ? Files.createTempDirectory(Path.of("/dev/shm"), "strata-model-c-") : tmp;
        try {
            runSeeds(root, start, count, "on");
        } finally {
            if (root != tmp) {
                deleteTree(root);
            }
        }
        if (count >= 20 && COALESCED.get() == 0) {
            fail("no write was coalesced");
        }
    }

    /** Writes coalesced over every run. */
    private static final java.util.concurrent.atomic.AtomicLong COALESCED = new java.util.concurrent.atomic.AtomicLong();

    /** Snapshots, clones, snapshot deletes, clone deletes, volume deletes, end checks: summed over every run. */
    private static final java.util.concurrent.atomic.AtomicLongArray SNAPSHOT_TOTALS = new java.util.concurrent.atomic.AtomicLongArray(6);
    /**
     * Background GC racing the history in a third of the seeds ({@code -Dstrata.model.backgroundGc=false}
     * turns it off). It found reads that looked up the map just before GC moved their blocks and
     * deleted the old object (now looked up again: docs/gc.md, "Reads racing a delete").
     */
    private static final boolean BACKGROUND_GC = !"false".equals(System.getProperty("strata.model.backgroundGc"));

    /** Explicit GC passes' objects compacted, GC objects written and objects deleted, over every run. */
    private static final java.util.concurrent.atomic.AtomicLongArray GC_TOTALS = new java.util.concurrent.atomic.AtomicLongArray(3);

    /** Seeds with the large-write bypass, bypassed writes, bypassed writes lost in crashes: over every run. */
    private static final java.util.concurrent.atomic.AtomicLongArray BYPASS_TOTALS = new java.util.concurrent.atomic.AtomicLongArray(3);

    /** Read cache block hits, fills and evictions summed over every run. */
    private static final java.util.concurrent.atomic.AtomicLongArray CACHE_TOTALS = new java.util.concurrent.atomic.AtomicLongArray(3);

    /** The same histories against a real S3 server (S3Proxy on 127.0.0.1), through the S3 store. */
    @Test
    void historiesOnARealS3ServerRecoverTheSameWay() throws Exception {
        int count = Integer.getInteger("strata.model.s3seeds", 4);
        try (dev.strata.engine.store.S3ProxyServer s3 = dev.strata.engine.store.S3ProxyServer.start()) {
            for (long seed = 1; seed <= count; seed++) {
                String bucket = "model-" + seed;
                s3.createBucket(bucket);
                ObjectStore store = new dev.strata.engine.store.S3ObjectStore(s3.config(bucket).build());
                try {
                    new Run(seed, tmp.resolve("s3-seed-" + seed), store, "random").run();
                } catch (Throwable t) {
                    throw new AssertionError("S3 model seed " + seed + " failed: " + t, t);
                }
            }
        }
    }

    /** Seeds run on a few threads at once (each its own store, node and volume); the smallest failing seed is reported. */
    private void runSeeds(Path root, long start, int count, String coalescer) throws Exception {
        int threads = Integer.getInteger("strata.model.threads", Math.max(2, Runtime.getRuntime().availableProcessors()));
        java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong(start);
        java.util.concurrent.ConcurrentSkipListMap<Long, Throwable> failures = new java.util.concurrent.ConcurrentSkipListMap<>();
        java.util.List<Thread> workers = new java.util.ArrayList<>();
        long[] running = new long[threads];
        long[] since = new long[threads];
        for (int t = 0; t < threads; t++) {
            int id = t;
            workers.add(Thread.ofPlatform().name("model-seeds-" + t).daemon(true).start(() -> {
                long seed;
                while (failures.isEmpty() && (seed = next.getAndIncrement()) < start + count) {
                    synchronized (running) {
                        running[id] = seed;
                        since[id] = System.nanoTime();
                    }
                    Path dir = root.resolve("seed-" + seed);
                    try {
                        Run run = new Run(seed, dir, coalescer);
                        run.run();
                        run.addCacheTotals(CACHE_TOTALS);
                        deleteTree(dir);
                    } catch (Throwable e) {
                        failures.put(seed, e);
                    }
                }
                synchronized (running) {
                    running[id] = -1;
                }
            }));
        }
        // A seed that hangs is a failure too (a deadlock is a bug): name it and show where every thread is.
        long limit = TimeUnit.SECONDS.toNanos(Long.getLong("strata.model.seedTimeoutSeconds", 180));
        for (Thread w : workers) {
            while (w.isAlive()) {
                w.join(1000);
                synchronized (running) {
                    for (int t = 0; t < threads; t++) {
                        if (running[t] >= 0 && since[t] != 0 && System.nanoTime() - since[t] > limit) {
                            StringBuilder dump = new StringBuilder();
                            Thread.getAllStackTraces().forEach((th, st) -> {
                                dump.append('\n').append(th.getName()).append(':');
                                for (StackTraceElement e : st) {
                                    dump.append("\n    at ").append(e);
                                }
                            });
                            throw new AssertionError("model seed " + running[t] + " hangs (replay with -Dstrata.model.seed="
                                    + running[t] + "); threads:" + dump);
                        }
                    }
                }
            }
        }
        if (!failures.isEmpty()) {
            var first = failures.firstEntry();
            throw new AssertionError("model seed " + first.getKey() + " failed (replay with -Dstrata.model.seed="
                    + first.getKey() + "): " + first.getValue(), first.getValue());
        }
    }

    private static final boolean PROFILE = Boolean.getBoolean("strata.model.profile");
    private static final java.util.Map<String, Long> TIMES = new java.util.concurrent.ConcurrentSkipListMap<>();

    @org.junit.jupiter.api.AfterAll
    static void printProfile() {
        if (PROFILE) {
            TIMES.forEach((k, v) -> System.err.printf("model step %-16s %8.1f ms%n", k, v / 1e6));
        }
    }

    /** One seeded history. */
    private static final class Run {
        private final long seed;
        private final SplittableRandom rnd;
        private final Path dir;
        private VolumeModel model = new VolumeModel(SECTORS);
        /** The volume under test: a new name after a volume delete (the old one may be kept by clones). */
        private String volumeName = VOLUME;
        private final ObjectStore store;
        private final VolumeOptions options;
        private StrataEngine engine;
        private LogStructuredVolume volume;
        private int node = 1;
        private long nextTag = 1L << 16;
        private final StringBuilder trace = new StringBuilder();
        /**
         * Snapshot, clone and delete operations: their own random source, so the rest of the history
         * (every draw of {@code rnd}) is the same with or without them; on in a fraction of the seeds
         * ({@code -Dstrata.model.snapshotEvery=N}: one seed in N, default 4; 0 turns them off).
         */
        private final SplittableRandom snapRnd;
        private final boolean snapshotOps;
        /** Live snapshots of the volume under test: name → its state when taken. */
        private final java.util.Map<String, long[]> snapshots = new java.util.TreeMap<>();
        /** Live clones: name → their state (the snapshot's state plus their own writes); all closed between steps. */
        private final java.util.Map<String, long[]> clones = new java.util.TreeMap<>();
        /** Live clones → the snapshot ("volume@snapshot") they read through. */
        private final java.util.Map<String, String> cloneParents = new java.util.TreeMap<>();
        private int names;
        private int generation;
        /** GC's own draws, so the write history of a seed does not depend on them. */
        private SplittableRandom gcRnd;

        /** Draws of the coalescer's settings and of sequential streams (the history's own draws are unchanged). */
        private final SplittableRandom seqRnd;
        private final boolean coalesced;
        private final long[] streamEnds;
        /** Journal sequence numbers of BYPASS records some replay found lost (they number one journal's records: cleared with it). */
        private final java.util.Set<Long> lostBypassSeen = new java.util.HashSet<>();
        /** The large-write bypass threshold of this seed (0: off) and its own draws. */
        private final SplittableRandom bypassRnd;
        private final int bypassBytes;

        Run(long seed, Path dir, String coalescer) throws IOException {
            this(seed, dir, new LocalDirectoryObjectStore(dir.resolve("bucket")), coalescer);
        }

        Run(long seed, Path dir, ObjectStore store, String coalescer) {
            this.seed = seed;
            this.rnd = new SplittableRandom(seed);
            this.snapRnd = new SplittableRandom(seed ^ 0x5BA95B07L);
            int every = Integer.getInteger("strata.model.snapshotEvery", 4);
            this.snapshotOps = every > 0 && snapRnd.nextInt(every) == 0;
            this.dir = dir;
            this.store = store;
            this.seqRnd = new SplittableRandom(seed ^ 0xC0A1E5CE5EEDL);
            this.coalesced = coalescer.equals("on") || (coalescer.equals("random") && seqRnd.nextBoolean());
            int[] clusterSizes = {4096, 8192, 16384, 65536};
            int clusterBytes = coalesced ? clusterSizes[seqRnd.nextInt(clusterSizes.length)] : 0;
            this.streamEnds = new long[1 + seqRnd.nextInt(5)];
            for (int i = 0; i < streamEnds.length; i++) {
                streamEnds[i] = seqRnd.nextInt(SECTORS);
            }
            VolumeOptions options = VolumeOptions.defaults()
                    .withCoalescer(clusterBytes)
                    .withCoalescerStreams(1 + seqRnd.nextInt(6))
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
                            .directIo(dev.strata.engine.util.DirectIoMode.OFF)
                            .build())
                    .withReadCache(smallReadCache(seed))
                    .withGc(gcOptions(seed));
            this.gcRnd = new SplittableRandom(seed ^ 0x6C0113C7L);
            this.bypassRnd = new SplittableRandom(seed ^ 0xB1A55B1A55L);
            int bypassEvery = Integer.getInteger("strata.model.bypassEvery", 3);
            this.bypassBytes = bypassEvery > 0 && bypassRnd.nextInt(bypassEvery) == 0 ? 4096 * (1 + bypassRnd.nextInt(4)) : 0;
            this.options = options.withLargeWriteBypass(bypassBytes);
            if (bypassBytes > 0) {
                BYPASS_TOTALS.incrementAndGet(0);
            }
        }

        /**
         * Garbage collection with no delete grace (no concurrent take-over here: a crashed writer
         * is stopped before another node opens) and a random live threshold; in a third of the
         * seeds it also runs in the background every few milliseconds, racing the history.
         */
        private static dev.strata.engine.gc.GcOptions gcOptions(long seed) {
            SplittableRandom r = new SplittableRandom(seed ^ 0x6C0FF5L);
            return dev.strata.engine.gc.GcOptions.defaults()
                    .withEnabled(r.nextInt(3) == 0 && BACKGROUND_GC)
                    .withInterval(Duration.ofMillis(1 + r.nextInt(20)))
                    .withLiveThreshold(0.2 + r.nextDouble() * 0.75)
                    .withPacing(1L << 30, 100_000)
                    .withDeleteGrace(Duration.ZERO);
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
            engine = newEngine();
            trace.append("coalescer=").append(options.coalescerClusterBytes()).append('/').append(options.coalescerStreams()).append(';');
            trace.append("bypass=").append(bypassBytes).append(';');
            engine.createVolume(volumeName, (long) SECTORS * SectorPattern.SECTOR);
            volume = engine.openForWrite(volumeName, options, false);
            int steps = 40 + rnd.nextInt(160);
            for (int i = 0; i < steps; i++) {
                int before = trace.length();
                long t0 = System.nanoTime();
                try {
                    step();
                    if (snapshotOps && snapRnd.nextInt(100) < 12) {
                        snapshotStep();
                    }
                } catch (IOException | RuntimeException e) {
                    throw new AssertionError(e + trace() + bucketListing(), e);
                }
                if (PROFILE) {
                    String what = trace.substring(before).replaceAll("[(;0-9,/].*", "");
                    TIMES.merge(what.isEmpty() ? "read" : what, System.nanoTime() - t0, Long::sum);
                }
            }
            trace.append("close;");
            if (volume.coalescerStats() != null) {
                COALESCED.addAndGet(volume.coalescerStats().writesCoalesced.sum());
            }
            volume.close();
            // The bucket alone, read-only, on a node that never saw the volume: exactly the model.
            StrataEngine readerEngine = new StrataEngine(store, dir.resolve("reader"), "reader");
            engines.add(readerEngine);
            try (LogStructuredVolume ro = readerEngine.openReadOnly(volumeName, options)) {
                long[] got = readAll(ro);
                if (!VolumeModel.same(model.current(), got)) {
                    fail("read-only open from the bucket differs:" + VolumeModel.describeDifference(model.current(), got) + trace());
                }
            }
            if (snapshotOps) {
                checkSnapshotsAndClones(readerEngine);
                deleteEverything(readerEngine);
            }
            store.close();
        }

        private StrataEngine newEngine() throws IOException {
            StrataEngine e = new StrataEngine(store, dir.resolve("node-" + node), "node-" + node);
            engines.add(e);
            return e;
        }

        /** Engines of this run, for the read cache totals. */
        private final java.util.List<StrataEngine> engines = new java.util.ArrayList<>();

        void addCacheTotals(java.util.concurrent.atomic.AtomicLongArray totals) {
            for (StrataEngine e : engines) {
                var c = e.readCache(options);
                if (c != null) {
                    totals.addAndGet(0, c.stats().blockHits.sum());
                    totals.addAndGet(1, c.stats().fills.sum());
                    totals.addAndGet(2, c.evictions());
                    try {
                        c.close(); // the run is over: release its files (runs never close their engines)
                    } catch (IOException ignored) {
                        // a cache: nothing to lose
                    }
                }
            }
            engines.clear();
        }

        private void step() throws Exception {
            if (gcRnd.nextInt(100) < 8) {
                collectGarbage();
                return;
            }
            int r = rnd.nextInt(100);
            if (r < 38) {
                long lba = randomLba();
                int sectors = randomLength();
                boolean fua = rnd.nextInt(10) == 0;
                if (coalesced && seqRnd.nextInt(4) != 0) {
                    // A sequential stream goes on: small writes, now and then one straddling a cluster or larger.
                    int s = seqRnd.nextInt(streamEnds.length);
                    lba = streamEnds[s] < SECTORS ? streamEnds[s] : seqRnd.nextInt(SECTORS);
                    sectors = seqRnd.nextInt(12) == 0 ? 1 + seqRnd.nextInt(300) : 1 + seqRnd.nextInt(8);
                    streamEnds[s] = Math.min(SECTORS, lba + sectors);
                }
                write(lba, sectors, fua);
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
                volume = engine.openForWrite(volumeName, options, false);
                expectExact("clean reopen");
            }
        }

        // ---------------------------------------------------------------- snapshots, clones, deletes

        /** One snapshot / clone / delete operation, between two steps of the history. */
        private void snapshotStep() throws Exception {
            int r = snapRnd.nextInt(100);
            if (r < 35) {
                takeSnapshot();
            } else if (r < 55) {
                createClone();
            } else if (r < 70) {
                writeClone();
            } else if (r < 82) {
                deleteSnapshot();
            } else if (r < 94) {
                deleteClone();
            } else {
                deleteVolumeUnderTest();
            }
        }

        /**
         * Through the open writer: every acknowledged write is in it, and in the bucket afterwards
         * (the snapshot uploaded it), so no later crash may lose those writes.
         */
        private void takeSnapshot() throws IOException {
            String name = "s" + names++;
            trace.append("snap(").append(name).append(");");
            volume.createSnapshot(name);
            SNAPSHOT_TOTALS.incrementAndGet(0);
            snapshots.put(name, model.current().clone());
            model.markDurableBucket();
        }

        private void createClone() throws Exception {
            if (snapshots.isEmpty() || clones.size() >= 4) {
                return;
            }
            String snap = pick(snapshots.keySet());
            String clone = "c" + names++;
            trace.append("clone(").append(snap).append("->").append(clone).append(");");
            engine.cloneVolume(volumeName, snap, clone);
            SNAPSHOT_TOTALS.incrementAndGet(1);
            clones.put(clone, snapshots.get(snap).clone());
            cloneParents.put(clone, volumeName + "@" + snap);
            writeClone(clone);
        }

        private void writeClone() throws Exception {
            if (!clones.isEmpty()) {
                writeClone(pick(clones.keySet()));
            }
        }

        /** Opens the clone, applies a few random writes / trims to it and its reference, checks a read, closes it. */
        private void writeClone(String clone) throws Exception {
            long[] image = clones.get(clone);
            trace.append("cloneWrites(").append(clone).append(");");
            try (LogStructuredVolume c = engine.openForWrite(clone, options, false)) {
                int n = 1 + snapRnd.nextInt(6);
                for (int i = 0; i < n; i++) {
                    long lba = snapRnd.nextInt(SECTORS);
                    int sectors = (int) Math.min(1 + snapRnd.nextInt(snapRnd.nextInt(4) == 0 ? 300 : 16), SECTORS - lba);
                    if (snapRnd.nextInt(5) == 0) {
                        c.trim(lba * SectorPattern.SECTOR, (long) sectors * SectorPattern.SECTOR);
                        java.util.Arrays.fill(image, (int) lba, (int) lba + sectors, 0);
                    } else {
                        long tagBase = nextTag;
                        nextTag += 1L << 16;
                        ByteBuffer buf = ByteBuffer.allocate(sectors * SectorPattern.SECTOR);
                        for (int k = 0; k < sectors; k++) {
                            SectorPattern.fill(buf, tagBase + k, lba + k);
                            image[(int) lba + k] = tagBase + k;
                        }
                        c.write(lba * SectorPattern.SECTOR, buf.flip(), false);
                    }
                }
                if (snapRnd.nextInt(3) == 0) {
                    expectSame(c, image, "clone " + clone);
                }
            }
        }

        private void deleteSnapshot() throws IOException {
            if (snapshots.isEmpty()) {
                return;
            }
            String snap = pick(snapshots.keySet());
            trace.append("deleteSnap(").append(snap).append(");");
            java.util.List<String> keepers = engine.deleteSnapshot(volumeName, snap);
            java.util.List<String> expected = cloneParents.entrySet().stream()
                    .filter(e -> e.getValue().equals(volumeName + "@" + snap)).map(java.util.Map.Entry::getKey).toList();
            if (!keepers.equals(expected)) {
                fail("deleting " + snap + ": kept for " + keepers + ", expected " + expected + trace());
            }
            snapshots.remove(snap);
            SNAPSHOT_TOTALS.incrementAndGet(2);
            if (engine.listSnapshots(volumeName).stream().anyMatch(s -> s.snapshot().equals(snap))) {
                fail("deleted snapshot " + snap + " is still listed" + trace());
            }
        }

        private void deleteClone() throws IOException {
            if (clones.isEmpty()) {
                return;
            }
            String clone = pick(clones.keySet());
            trace.append("deleteClone(").append(clone).append(");");
            engine.deleteVolume(clone);
            clones.remove(clone);
            cloneParents.remove(clone);
            SNAPSHOT_TOTALS.incrementAndGet(3);
            if (engine.exists(clone)) {
                fail("deleted clone " + clone + " still exists" + trace());
            }
        }

        /**
         * Deletes the volume under test (clean close first) and starts a new one under a new name:
         * its snapshots go with it, its clones keep reading what they need. The old name stays
         * reserved exactly while clones of it remain.
         */
        private void deleteVolumeUnderTest() throws IOException {
            String old = volumeName;
            trace.append("deleteVolume(").append(old).append(");");
            volume.close();
            engine.deleteVolume(old);
            SNAPSHOT_TOTALS.incrementAndGet(4);
            snapshots.clear();
            boolean kept = cloneParents.values().stream().anyMatch(p -> p.startsWith(old + "@"));
            if (engine.exists(old) || engine.listVolumes().contains(old)) {
                fail("deleted volume " + old + " is still visible" + trace());
            }
            if (kept != !engine.clonesKeepingRemains(old).isEmpty()) {
                fail("volume " + old + ": remains kept " + engine.clonesKeepingRemains(old) + ", clones " + cloneParents + trace());
            }
            volumeName = VOLUME + "-" + ++generation;
            engine.createVolume(volumeName, (long) SECTORS * SectorPattern.SECTOR);
            volume = engine.openForWrite(volumeName, options, false);
            model = new VolumeModel(SECTORS);
            lostBypassSeen.clear();
        }

        /** Every live snapshot reads its state when taken; every clone its snapshot's state plus its own writes. */
        private void checkSnapshotsAndClones(StrataEngine reader) throws IOException {
            SNAPSHOT_TOTALS.addAndGet(5, snapshots.size() + clones.size());
            for (var e : snapshots.entrySet()) {
                try (SnapshotView s = reader.openSnapshot(volumeName, e.getKey())) {
                    expectSame(s, e.getValue(), "snapshot " + volumeName + "@" + e.getKey());
                }
            }
            for (var e : clones.entrySet()) {
                try (LogStructuredVolume c = reader.openReadOnly(e.getKey(), options)) {
                    expectSame(c, e.getValue(), "clone " + e.getKey() + " of " + cloneParents.get(e.getKey()));
                }
            }
        }

        /** Deleting the clones and the volume (in a random order) leaves nothing in the bucket. */
        private void deleteEverything(StrataEngine reader) throws IOException {
            java.util.List<String> all = new java.util.ArrayList<>(clones.keySet());
            all.add(snapRnd.nextInt(all.size() + 1), volumeName);
            for (String v : all) {
                reader.deleteVolume(v);
            }
            var left = store.list(dev.strata.engine.objectlog.VolumeKeys.volumesRoot());
            if (!left.isEmpty()) {
                fail("keys left after deleting every volume (in the order " + all + "): " + left + trace());
            }
        }

        private void expectSame(Volume v, long[] want, String what) throws IOException {
            long[] got = readAll(v);
            if (!VolumeModel.same(want, got)) {
                fail(what + " differs from its reference:" + VolumeModel.describeDifference(want, got) + trace());
            }
        }

        private String pick(java.util.Set<String> set) {
            int i = snapRnd.nextInt(set.size());
            for (String n : set) {
                if (i-- == 0) {
                    return n;
                }
            }
            throw new IllegalStateException();
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
            boolean bypass = false;
            if (bypassBytes > 0) {
                int a = bypassRnd.nextInt(4);
                if (a > 0) { // 4 KiB-aligned, so the threshold decides; one in four as large as an object
                    lba = lba / 8 * 8;
                    if (a == 3) {
                        sectors = 8 * (1 + bypassRnd.nextInt(options.objectBytes() / 4096));
                    }
                    sectors = (int) Math.min(Math.max(8, (sectors + 7) / 8 * 8), SECTORS - lba);
                }
                boolean aligned = lba % 8 == 0 && sectors % 8 == 0;
                if (aligned && sectors * SectorPattern.SECTOR > options.objectBytes()) {
                    sectors = options.objectBytes() / SectorPattern.SECTOR; // one record, whole or lost: the model's unit
                }
                bypass = aligned && sectors * SectorPattern.SECTOR >= bypassBytes;
                if (bypass) {
                    BYPASS_TOTALS.incrementAndGet(1);
                }
            }
            long tagBase = nextTag;
            nextTag += 1L << 16;
            ByteBuffer buf = ByteBuffer.allocate(sectors * SectorPattern.SECTOR);
            for (int i = 0; i < sectors; i++) {
                SectorPattern.fill(buf, tagBase + i, lba + i);
            }
            buf.flip();
            trace.append("w").append(bypass ? "b" : "").append(fua ? "fua" : "").append('(').append(lba).append(',')
                    .append(sectors).append(");");
            volume.write(lba * SectorPattern.SECTOR, buf, fua);
            model.apply(new VolumeModel.Op(lba, sectors, tagBase, bypass));
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

        /**
         * A GC pass; one in four dies at a random point of it (after choosing victims, after
         * copying, after committing a GC object, while deleting) and the process restarts.
         * GC never changes what the volume reads: checked whole after every pass.
         */
        private void collectGarbage() throws IOException {
            if (gcRnd.nextInt(4) == 0) {
                String[] points = {"selected", "copied", "committed", "deleting", "checkpointing"};
                String at = points[gcRnd.nextInt(points.length)];
                trace.append("gc-dies@").append(at).append(';');
                volume.gcCrashPoints(p -> {
                    if (p.equals(at)) {
                        throw new GcDiedHere(at);
                    }
                });
                try {
                    volume.collectGarbage();
                } catch (GcDiedHere expected) {
                    // the process "dies" here
                }
                crash(gcRnd.nextBoolean());
                return;
            }
            if (gcRnd.nextBoolean()) {
                // Retire, then two checkpoints captured later (each after a new object): the next pass may delete.
                trace.append("gc+2cp;");
                volume.collectGarbage();
                for (int i = 0; i < 2; i++) {
                    long lba = gcRnd.nextInt(SECTORS);
                    write(lba, 1 + gcRnd.nextInt(8), false);
                    volume.flushToBucket();
                    model.markDurableBucket();
                    volume.checkpoint();
                }
            }
            dev.strata.engine.gc.GcReport r = volume.collectGarbage();
            GC_TOTALS.addAndGet(0, r.objectsCompacted());
            GC_TOTALS.addAndGet(1, r.gcObjectsWritten());
            GC_TOTALS.addAndGet(2, r.objectsDeleted());
            trace.append("gc(").append(r.objectsCompacted()).append('c').append(r.objectsDeleted()).append("d);");
            long[] got = readAll(volume);
            if (!VolumeModel.same(model.current(), got)) {
                fail("after garbage collection the volume reads differently:"
                        + VolumeModel.describeDifference(model.current(), got) + trace());
            }
        }

        private static final class GcDiedHere extends IOException {
            GcDiedHere(String point) {
                super("test: GC dies at " + point);
            }
        }

        /** The process dies (optionally with the power: un-synced journal bytes are lost too) and restarts. */
        private void crash(boolean powerCut) throws IOException {
            trace.append(powerCut ? "powercut;" : "crash;");
            volume.crashForTest(powerCut);
            volume = engine.openForWrite(volumeName, options, false);
            // A record lost by an earlier replay is found again while its new batch is not uploaded:
            // the model already left that write out.
            java.util.List<long[]> newlyLost = volume.lostBypasses().stream().filter(l -> lostBypassSeen.add(l.journalSeq()))
                    .map(l -> new long[] {l.lba(), l.sectors()}).toList();
            int lost = newlyLost.size();
            BYPASS_TOTALS.addAndGet(2, lost);
            if (lost > 0) {
                trace.append("lostBypassed=").append(lost).append(';');
            }
            int k = expectPrefix(model.durableLocal(), powerCut ? "power cut" : "process crash", newlyLost);
            model.truncate(k);
        }

        /** The node is gone with its disk: another node takes the volume over from the bucket alone. */
        private void loseNode() throws IOException {
            trace.append("loseNode;");
            volume.crashForTest(true);
            node++;
            engine = newEngine();
            try {
                engine.openForWrite(volumeName, options, false);
                fail("a second node opened a held volume without taking it over" + trace());
            } catch (VolumeLockedException expected) {
                // the holder is named; take over explicitly
            }
            volume = engine.openForWrite(volumeName, options, true);
            lostBypassSeen.clear(); // the journal is gone: numbers after the bucket's last record are given again
            expectPrefix(model.durableBucket(), "node loss");
            model.rebase(readAll(volume));
            model.markDurableBucket();
        }

        private int expectPrefix(int minOps, String what) throws IOException {
            return expectPrefix(minOps, what, java.util.List.of());
        }

        /** {@code lostRanges}: {lba, sectors} of each bypassed write the replay reported lost, in journal order. */
        private int expectPrefix(int minOps, String what, java.util.List<long[]> lostRanges) throws IOException {
            int lostBypassed = lostRanges.size();
            long[] got = readAll(volume);
            int k = model.matchPrefix(got, minOps, lostRanges);
            if (k < 0) {
                fail(what + ": recovered state is not the state after any prefix of at least " + minOps + " of "
                        + model.opCount() + " operations; vs. latest:" + VolumeModel.describeDifference(model.current(), got)
                        + "\n vs. the durable prefix:" + VolumeModel.describeDifference(model.stateAfter(minOps), got)
                        + trace());
            }
            trace.append("recovered ").append(k).append('/').append(model.opCount())
                    .append(lostBypassed > 0 ? " less " + lostBypassed + " bypassed" : "").append(';');
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

        /** What the bucket holds (objects and checkpoints), for a failure message. */
        private String bucketListing() {
            try {
                VolumeKeys k = new VolumeKeys(volumeName);
                return "\n objects: " + store.list(k.objectsPrefix()).stream().map(o -> o.key().substring(k.objectsPrefix().length())).toList()
                        + "\n checkpoints: " + store.list(k.checkpointsPrefix()).stream().map(o -> o.key().substring(k.checkpointsPrefix().length())).toList()
                        + "\n epochs: " + store.list(k.epochsPrefix()).stream().map(o -> o.key().substring(k.epochsPrefix().length())).toList();
            } catch (IOException e) {
                return "\n (bucket listing failed: " + e + ")";
            }
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
