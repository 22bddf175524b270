package dev.strata.engine.bench;

import dev.strata.engine.pacing.HintedFile;
import dev.strata.engine.pacing.LinuxFileHints;
import dev.strata.engine.readcache.ReadCache;
import dev.strata.engine.readcache.ReadCacheConfig;
import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.S3ObjectStore;
import dev.strata.engine.store.S3ProxyServer;
import dev.strata.engine.store.S3StoreConfig;
import dev.strata.engine.util.HugePageBuffers;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * Benchmark (not a test), run by bench/read-cache.sh (issue 4, acceptance 2): on a real S3
 * server (S3Proxy, filesystem backend, embedded in this JVM on 127.0.0.1, or in a process of its
 * own at {@code -Dstrata.bench.endpoint}), measured side by side:
 * <ol>
 *   <li>a cold sequential read of the volume through the engine (empty read cache, a node that
 *       never saw the volume), 1 MiB reads on a virtual thread (as `strata serve` serves NBD requests);</li>
 *   <li>the S3 GET ceiling: the volume's objects read straight through the S3 store, three times:
 *       plain 1 MiB ranged GETs one at a time, ranged GETs of the size and concurrency the
 *       engine's sequential readahead uses ({@link ReadCacheConfig#readaheadGetBlocks} blocks,
 *       {@link ReadCacheConfig#readaheadGets} in flight), and the same GETs twice as many in
 *       flight; the ceiling is the fastest of the three (of the first two with {@code LATENCY_MS},
 *       see {@link Ceilings#best}), so the engine is never compared with a peer that is slower only
 *       because it issues fewer GETs at a time;</li>
 *   <li>the floor: the parallel ceiling's GETs each doing only the work a cold read cannot skip
 *       (CRC32C of every page, a copy to the reader, an O_DIRECT cache write), so that the cold
 *       read's distance from the ceiling splits into that work and the engine's own cost;</li>
 *   <li>after the rounds, the last reader node restarted: read cache hit ratio and GETs.</li>
 * </ol>
 * {@code WARMUP} warm-up rounds (cold read and both ceilings, not reported) run first: the
 * engine's cold read is otherwise the first GET-heavy code of the JVM and pays the JIT warm-up of
 * the S3 client and server that the ceiling, measured after it, does not; and its own path (more
 * code than the ceiling's) is still being compiled in the round after (measured: 0.37, 0.53, 0.68
 * in rounds 1-3 of one JVM after a single warm-up). "Cold" is the cache, not the JVM: a node's
 * serve process runs for days. Then {@code ROUNDS} rounds of a cold read and both ceilings, in
 * alternating order (cold read first in odd rounds, the ceilings first in even ones: the machine
 * drifts within a round), each printed as one {@code run=N.R key=value ...} line for
 * bench/summarize.py (the ratio is per round: its cold read against its own ceiling), with the
 * reader's slowest 1 MiB read and how many took over 8 ms (stalls).
 * The process CPU time per MiB (engine, S3 client and S3Proxy together) is printed for both, and
 * the mean number of GETs in flight of the cold read and of the parallel ceiling. The volume's
 * open (attach: superblock, epochs, checkpoint, object list) is timed apart from its read.
 *
 * <p>{@code LATENCY_MS} (default 0) adds that much latency before every request of both the engine
 * and the ceiling: the embedded S3Proxy answers in well under a millisecond and shares this
 * machine's two cores, so without it the comparison measures CPU per MiB; with it (a real S3's
 * time to first byte is tens of milliseconds) it measures how well the readahead keeps GETs in
 * flight.
 *
 * <p>{@code QUEUE_DEPTH} (default 1) is how many 1 MiB reads the cold reader keeps in flight, issued
 * in offset order (a client with an I/O depth: fio's iodepth, the kernel's readahead over NBD,
 * qemu-img's parallel requests); 1 is a reader that waits for each read before the next, which
 * only the engine's own readahead keeps ahead of.
 *
 * <p>args: WORKDIR VOLUME_MIB RUN [ROUNDS=3] [WARMUP=16] [LATENCY_MS=0] [QUEUE_DEPTH=1]
 */
public final class ColdReadBench {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int mib = Integer.parseInt(args[1]);
        String run = args.length > 2 ? args[2] : "1";
        int rounds = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        int warmup = args.length > 4 ? Integer.parseInt(args[4]) : 16;
        int latencyMs = args.length > 5 ? Integer.parseInt(args[5]) : 0;
        int queueDepth = args.length > 6 ? Integer.parseInt(args[6]) : 1;
        long size = (long) mib << 20;
        Files.createDirectories(dir);
        Files.createDirectories(dir.resolve("s3proxy"));
        floorFile = dir.resolve("floor-fills");
        VolumeOptions opts = VolumeOptions.defaults();
        ReadCacheConfig rc = ReadCacheConfig.defaults(dir, 1L << 30);
        int parallelGets = rc.readaheadGets();
        int parallelRange = rc.readaheadGetBlocks() * rc.blockSize();
        // -Dstrata.bench.endpoint=URI: S3Proxy runs in a process of its own (bench/read-cache.sh
        // ISOLATED=1 pins it to one core and this JVM to the other), with bucket "bench" created.
        String external = System.getProperty("strata.bench.endpoint");
        try (S3ProxyServer s3 = external == null ? S3ProxyServer.startFilesystem(dir.resolve("s3proxy")) : null) {
            java.net.URI endpoint = s3 != null ? s3.endpoint() : java.net.URI.create(external);
            java.util.function.Supplier<S3StoreConfig.Builder> bucket = () -> S3ProxyServer.config(endpoint, "bench");
            if (s3 != null) {
                s3.createBucket("bench");
            }
            try (StrataEngine writer = new StrataEngine(new S3ObjectStore(bucket.get().build()), dir.resolve("writer"), "writer")) {
                writer.createVolume("v", size);
                try (LogStructuredVolume v = writer.openForWrite("v", opts, false)) {
                    ByteBuffer buf = ByteBuffer.allocateDirect(1 << 20);
                    SplittableRandom r = new SplittableRandom(1);
                    for (long off = 0; off < size; off += buf.capacity()) {
                        buf.clear();
                        while (buf.hasRemaining()) {
                            buf.putLong(r.nextLong());
                        }
                        v.write(off, buf.flip(), false);
                    }
                }
            }
            ObjectStore s3Store = new S3ObjectStore(bucket.get().build());
            ObjectStore source = MEMORY_STORE ? new MemoryStore(s3Store) : s3Store;
            TimedStore raw = new TimedStore(source, latencyMs);
            List<ObjectInfo> objects = raw.list("volumes/v/objects/");

            // The reading node's S3 client lives across rounds, as a node's does across volumes: a fresh
            // client per round would charge its set-up and warm-up (connection pool, per-client caches)
            // to the cold read and not to the ceiling, which reuses its client.
            TimedStore readerStore = new TimedStore(MEMORY_STORE ? keptOpen(source) : new S3ObjectStore(bucket.get().build()), latencyMs);
            Path node = null;
            for (int round = 1 - warmup; round <= rounds; round++) {
                if (node != null) {
                    deleteTree(node);
                    // Deleting the last round's 512 MiB of cache files makes the filesystem free (and,
                    // mounted with online discard, discard) them at its next journal commit, which used
                    // to land in every other cold phase (docs/benchmarks.md, "The JIT, and the spread
                    // from round to round"). Commit now and let it settle outside the measurement.
                    try (FileChannel d = FileChannel.open(dir)) {
                        d.force(true);
                    }
                    Thread.sleep(1500);
                }
                node = dir.resolve("reader-" + round);
                // The order alternates from round to round, so that a drift of the machine (the JIT
                // finishing, writeback of the last round's fills, other tenants) does not always
                // favour the same side.
                boolean ceilingFirst = (round & 1) == 0;
                Ceilings ceilings = null;
                if (ceilingFirst) {
                    ceilings = ceilings(raw, objects, parallelGets, parallelRange);
                }
                Measured cold;
                Measured coldOpen;
                double coldInFlight;
                long coldAllGets;
                long coldGets;
                long coldHits;
                long coldJoins;
                long coldHeld;
                SlowReads coldSlow = new SlowReads();
                try (StrataEngine reader = new StrataEngine(keptOpen(readerStore), node, "reader")) {
                    readerStore.getsInFlight(1); // the open's requests are not the read's
                    readerStore.getsSinceLastCall();
                    phase("cold-start");
                    Measured[] openAndRead = openAndReadAll(reader, opts, size, coldSlow, queueDepth);
                    cold = openAndRead[1];
                    coldOpen = openAndRead[0];
                    phase("cold-end");
                    coldInFlight = readerStore.getsInFlight(cold.secs);
                    coldAllGets = readerStore.getsSinceLastCall();
                    ReadCache c = reader.readCache(opts);
                    coldGets = c.stats().bucketGets.sum();
                    coldHits = c.stats().blockHits.sum();
                    coldJoins = c.stats().flightJoins.sum();
                    coldHeld = c.stats().heldRunHits.sum();
                    c.close(); // persists its index, as a clean shutdown does
                }
                if (!ceilingFirst) {
                    ceilings = ceilings(raw, objects, parallelGets, parallelRange);
                }
                if (round <= 0) {
                    continue; // warm-up
                }
                Measured serial = ceilings.serial;
                Measured parallel = ceilings.parallel;
                double parallelInFlight = ceilings.parallelInFlight;
                double ceiling = ceilings.best(latencyMs);
                double gib = size / (double) (1L << 30);
                System.out.printf("run=%s.%d s3_get_ceiling_MBps=%.1f ceiling_serial_1MiB_MBps=%.1f ceiling_parallel_MBps=%.1f ceiling_wide_MBps=%.1f "
                        + "cold_read_MBps=%.1f cold_gets_per_GiB=%.1f cold_cpu_ms_per_MiB=%.2f ceiling_serial_cpu_ms_per_MiB=%.2f "
                        + "ceiling_parallel_cpu_ms_per_MiB=%.2f open_ms=%.1f open_cpu_ms=%.1f cold_block_hits=%d cold_block_joins=%d cold_held_hits=%d "
                        + "cold_gets_in_flight=%.2f ceiling_parallel_gets_in_flight=%.2f cold_all_gets_per_GiB=%.1f cold_max_read_ms=%.1f "
                        + "cold_reads_over_8ms=%d ceiling_first=%d floor_MBps=%.1f floor_cpu_ms_per_MiB=%.2f%n",
                        run, round, ceiling, serial.mbps, parallel.mbps, ceilings.wide.mbps, cold.mbps, coldGets / gib, cold.cpuMsPerMiB,
                        serial.cpuMsPerMiB, parallel.cpuMsPerMiB, coldOpen.secs * 1e3, coldOpen.cpuMs, coldHits, coldJoins, coldHeld, coldInFlight, parallelInFlight, coldAllGets / gib,
                        coldSlow.maxNanos / 1e6, coldSlow.over8ms, ceilingFirst ? 1 : 0, ceilings.floor.mbps, ceilings.floor.cpuMsPerMiB);
            }
            raw.close();
            readerStore.close();
            Files.deleteIfExists(floorFile);
            System.out.printf("# ceiling_parallel = %d GETs of %d KiB in flight, ceiling_wide %d; store latency %d ms per request; cold reads in flight %d; S3Proxy %s%n",
                    parallelGets, parallelRange >> 10, 2 * parallelGets, latencyMs, queueDepth, external == null ? "in this JVM" : "at " + external);

            // The last node restarted: the persisted cache serves the read.
            TimedStore restartStore = new TimedStore(new S3ObjectStore(bucket.get().build()), latencyMs);
            try (StrataEngine reader = new StrataEngine(restartStore, node, "reader")) {
                Measured warm = measure(size, () -> onVirtualThread(() -> readAll(reader, opts, size)));
                long allGets = restartStore.getsSinceLastCall();
                ReadCache c = reader.readCache(opts);
                long hits = c.stats().blockHits.sum();
                long misses = c.stats().blockMisses.sum();
                long warmGets = c.stats().bucketGets.sum();
                double gib = size / (double) (1L << 30);
                System.out.printf("run=%s.restart restart_read_MBps=%.1f restart_hit_ratio=%.4f restart_gets_per_GiB=%.1f "
                        + "restart_all_gets_per_GiB=%.1f%n", run, warm.mbps, hits / (double) Math.max(1, hits + misses), warmGets / gib,
                        allGets / gib);
            }
            // Restarted again after the cache files' pages left the page cache, as after a reboot:
            // the hits come from the disk.
            if (dropPageCache(node.resolve("cache"))) {
                // A store of its own: the engine closed the last one.
                TimedStore rebootStore = new TimedStore(new S3ObjectStore(bucket.get().build()), latencyMs);
                try (StrataEngine reader = new StrataEngine(rebootStore, node, "reader")) {
                    Measured disk = measure(size, () -> onVirtualThread(() -> readAll(reader, opts, size)));
                    ReadCache c = reader.readCache(opts);
                    long hits = c.stats().blockHits.sum();
                    long misses = c.stats().blockMisses.sum();
                    System.out.printf("run=%s.reboot reboot_read_MBps=%.1f reboot_hit_ratio=%.4f reboot_file_reads_per_GiB=%.1f%n", run,
                            disk.mbps, hits / (double) Math.max(1, hits + misses), c.stats().fileReads.sum() / (size / (double) (1L << 30)));
                }
            }
        }
    }

    /**
     * An object store that adds {@code latencyMs} before every request (0: none) — a remote
     * store's time to first byte, which the same-machine S3Proxy lacks — and adds up the time
     * spent in ranged GETs, so that busy time over wall time is the mean number of GETs in flight
     * (Little's law). The ceiling and the engine go through the same wrapper.
     */
    private static final class TimedStore extends ForwardingObjectStore {
        private final int latencyMs;
        private final java.util.concurrent.atomic.LongAdder busyNanos = new java.util.concurrent.atomic.LongAdder();
        /** GET requests of any kind (ranged data GETs, header probes, whole-object GETs). */
        private final java.util.concurrent.atomic.LongAdder gets = new java.util.concurrent.atomic.LongAdder();

        TimedStore(ObjectStore store, int latencyMs) {
            super(store);
            this.latencyMs = latencyMs;
        }

        @Override
        public byte[] get(String key) throws IOException {
            gets.increment();
            pause();
            return super.get(key);
        }

        @Override
        public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
            long t0 = System.nanoTime();
            gets.increment();
            try {
                pause();
                return super.getRange(key, offset, dst);
            } finally {
                busyNanos.add(System.nanoTime() - t0);
            }
        }

        @Override
        public List<ObjectInfo> list(String prefix) throws IOException {
            pause();
            return super.list(prefix);
        }

        /** GET requests since the last call. */
        long getsSinceLastCall() {
            return gets.sumThenReset();
        }

        /** Mean ranged GETs in flight over {@code secs} of wall time since the last call. */
        double getsInFlight(double secs) {
            return busyNanos.sumThenReset() / 1e9 / secs;
        }

        private void pause() throws InterruptedIOException {
            if (latencyMs == 0) {
                return;
            }
            try {
                Thread.sleep(latencyMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted in the simulated store latency");
            }
        }
    }

    /**
     * {@code -Dstrata.bench.memoryStore=true}: the cold read, the ceilings and the floor GET from
     * copies of the objects held in memory instead of from S3Proxy, so that the engine's own CPU per
     * MiB is not hidden under the S3 client's and server's (a probe of the engine's path, not the
     * acceptance figure).
     */
    private static final boolean MEMORY_STORE = Boolean.getBoolean("strata.bench.memoryStore");

    /** Serves GETs from in-memory copies of the objects, loaded on first use; everything else from the store. */
    private static final class MemoryStore extends ForwardingObjectStore {
        private final java.util.concurrent.ConcurrentHashMap<String, byte[]> objects = new java.util.concurrent.ConcurrentHashMap<>();

        MemoryStore(ObjectStore store) {
            super(store);
        }

        private byte[] bytes(String key) throws IOException {
            byte[] b = objects.get(key);
            if (b == null) {
                b = delegate.get(key);
                objects.put(key, b);
            }
            return b;
        }

        @Override
        public byte[] get(String key) throws IOException {
            return bytes(key).clone();
        }

        @Override
        public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
            byte[] b = bytes(key);
            if (offset >= b.length) {
                return -1;
            }
            int n = (int) Math.min(dst.remaining(), b.length - offset);
            dst.put(b, (int) offset, n);
            return n;
        }
    }

    /** {@code store}, which the engine may close without closing it. */
    private static ObjectStore keptOpen(ObjectStore store) {
        return new ForwardingObjectStore(store) {
            @Override
            public void close() {}
        };
    }

    private record Measured(double mbps, double cpuMsPerMiB, double secs, double cpuMs) {}

    private interface Body {
        void run() throws Exception;
    }

    private static Measured measure(long bytes, Body body) throws Exception {
        long c0 = cpuNanos();
        long t0 = System.nanoTime();
        body.run();
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpuMs = (cpuNanos() - c0) / 1e6;
        return new Measured(bytes / secs / 1e6, cpuMs / (bytes / (double) (1 << 20)), secs, cpuMs);
    }

    private record Ceilings(Measured serial, Measured parallel, double parallelInFlight, Measured wide, Measured floor) {
        /**
         * The ceiling every ratio is taken against: the fastest of the three, the wide one only
         * without added latency. With none, the server's CPU bounds them all and the wide one checks
         * that the engine's concurrency does not understate it; with a time to first byte, every
         * GET more in flight adds throughput, so the wide one would measure a client with twice the
         * engine's readahead rather than the store.
         */
        double best(int latencyMs) {
            double engineLike = Math.max(serial.mbps, parallel.mbps);
            return latencyMs == 0 ? Math.max(engineLike, wide.mbps) : engineLike;
        }
    }

    /**
     * The ceilings, one after the other: serial 1 MiB GETs, the engine's GET size and concurrency,
     * and the same size with twice as many in flight (so that a server with room for more
     * concurrency than the engine uses is measured at its own limit, not the engine's).
     */
    private static Ceilings ceilings(TimedStore raw, List<ObjectInfo> objects, int parallelGets, int parallelRange) throws Exception {
        phase("serial-start");
        Measured serial = ceiling(raw, objects, 1, 1 << 20);
        phase("serial-end");
        phase("parallel-start");
        raw.getsInFlight(1);
        Measured parallel = ceiling(raw, objects, parallelGets, parallelRange);
        double inFlight = raw.getsInFlight(parallel.secs);
        phase("parallel-end");
        phase("wide-start");
        Measured wide = ceiling(raw, objects, 2 * parallelGets, parallelRange);
        phase("wide-end");
        phase("floor-start");
        Measured floor = floor(raw, objects, parallelGets, parallelRange);
        phase("floor-end");
        if (GET_VARIANTS) {
            for (int v = 0; v < 4; v++) {
                boolean virtual = (v & 1) != 0;
                boolean direct = (v & 2) != 0;
                Measured m = ceiling(raw, objects, parallelGets, parallelRange, virtual, direct);
                System.out.printf("# get_variant virtual=%b direct=%b MBps=%.1f cpu_ms_per_MiB=%.3f of_parallel_ceiling=%.3f%n", virtual, direct,
                        m.mbps, m.cpuMsPerMiB, m.mbps / parallel.mbps);
            }
        }
        return new Ceilings(serial, parallel, inFlight, wide, floor);
    }

    /** The ranged GETs that read every byte of {@code objects}, {@code range} bytes each, in object order: {object index, offset}. */
    private record Ranges(List<long[]> items, long bytes) {
        static Ranges of(List<ObjectInfo> objects, int range) {
            List<long[]> items = new ArrayList<>();
            long bytes = 0;
            for (int i = 0; i < objects.size(); i++) {
                for (long off = 0; off < objects.get(i).size(); off += range) {
                    items.add(new long[] {i, off});
                    bytes += Math.min(range, objects.get(i).size() - off);
                }
            }
            return new Ranges(items, bytes);
        }
    }

    /**
     * {@code -Dstrata.bench.getVariants=true}: after the floor, the parallel ceiling again on virtual
     * or platform threads, into heap or direct buffers (the engine GETs into direct buffers on
     * virtual threads), each printed as a {@code # get_variant} line.
     */
    private static final boolean GET_VARIANTS = Boolean.getBoolean("strata.bench.getVariants");

    /** Every byte of the objects read with ranged GETs of {@code range} bytes, {@code threads} at a time (in object order). */
    private static Measured ceiling(ObjectStore raw, List<ObjectInfo> objects, int threads, int range) throws Exception {
        return ceiling(raw, objects, threads, range, false, false);
    }

    private static Measured ceiling(ObjectStore raw, List<ObjectInfo> objects, int threads, int range, boolean virtual, boolean direct)
            throws Exception {
        Ranges work = Ranges.of(objects, range);
        AtomicInteger next = new AtomicInteger();
        return measure(work.bytes(), () -> {
            List<Thread> ts = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                ts.add((virtual ? Thread.ofVirtual() : Thread.ofPlatform()).start(() -> {
                    ByteBuffer chunk = direct ? ByteBuffer.allocateDirect(range) : ByteBuffer.allocate(range);
                    for (int w; (w = next.getAndIncrement()) < work.items().size(); ) {
                        long[] item = work.items().get(w);
                        chunk.clear();
                        try {
                            raw.getRange(objects.get((int) item[0]).key(), item[1], chunk);
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        }
                    }
                }));
            }
            for (Thread t : ts) {
                t.join();
            }
        });
    }

    /**
     * The file the floor writes its "fills" into (beside the reading node's cache, on the same
     * disk); kept from round to round and overwritten in place, as deleting 512 MiB makes the
     * filesystem discard it at its next journal commit, which could land in the next phase.
     */
    private static Path floorFile;

    private record Fill(ByteBuffer data, long position) {}

    private static final Fill NO_MORE_FILLS = new Fill(ByteBuffer.allocate(0), -1);

    /**
     * The parallel ceiling's GETs (same size, same number in flight, platform threads), each doing
     * the work every cold read must do and nothing else: the GET into a direct buffer on huge pages,
     * a CRC32C pass over each 4 KiB page, a copy into a reader's buffer, and an O_DIRECT write of
     * the buffer into a file, as a cache fill (by one writer thread, so
     * that GETs do not wait for the disk, as the engine's fills do not; written by the GET's own
     * thread it was slower: 0.685 of the ceiling against 0.726). No block bookkeeping, no hand-offs
     * to a reader, no readahead: what is left between it and the cold read is the engine's own cost.
     */
    private static ByteBuffer floorSlab;

    private static Measured floor(ObjectStore raw, List<ObjectInfo> objects, int threads, int range) throws Exception {
        Ranges work = Ranges.of(objects, range);
        AtomicInteger next = new AtomicInteger();
        int page = 4096;
        var free = new java.util.concurrent.ArrayBlockingQueue<ByteBuffer>(2 * threads);
        // Cut from a slab of huge pages, as the engine's GET buffers are (docs/read-cache.md, "I/O buffers on huge pages"),
        // kept from round to round as the engine's pools keep theirs.
        int slabBytes = (int) (((long) 2 * threads * range + HugePageBuffers.HUGE_PAGE - 1) & -HugePageBuffers.HUGE_PAGE);
        if (floorSlab == null || floorSlab.capacity() < slabBytes) {
            floorSlab = HugePageBuffers.slab(slabBytes);
        }
        for (int b = 0; b < 2 * threads; b++) {
            free.add(floorSlab.slice(b * range, range));
        }
        var fills = new java.util.concurrent.ArrayBlockingQueue<Fill>(2 * threads + 1);
        try (FileChannel file = FileChannel.open(floorFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                dev.strata.engine.util.DirectIoMode.OPEN_OPTION)) {
            return measure(work.bytes(), () -> {
                Thread writer = Thread.ofPlatform().start(() -> {
                    try {
                        for (Fill f; (f = fills.take()) != NO_MORE_FILLS; ) {
                            file.write(f.data(), f.position());
                            free.put(f.data());
                        }
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
                List<Thread> ts = new ArrayList<>();
                for (int t = 0; t < threads; t++) {
                    ts.add(Thread.ofPlatform().start(() -> {
                        ByteBuffer reader = ByteBuffer.allocateDirect(range);
                        java.util.zip.CRC32C crc = new java.util.zip.CRC32C();
                        try {
                            for (int w; (w = next.getAndIncrement()) < work.items().size(); ) {
                                ByteBuffer chunk = free.take().clear();
                                raw.getRange(objects.get((int) work.items().get(w)[0]).key(), work.items().get(w)[1], chunk);
                                chunk.flip();
                                for (int p = 0; p < chunk.limit(); p += page) {
                                    crc.reset();
                                    crc.update(chunk.slice(p, Math.min(page, chunk.limit() - p)));
                                }
                                reader.clear().put(chunk.duplicate());
                                fills.put(new Fill(chunk.limit(chunk.limit() & -page), (long) w * range % (512L << 20)));
                            }
                        } catch (IOException e) {
                            throw new UncheckedIOException(e);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                        }
                    }));
                }
                for (Thread t : ts) {
                    t.join();
                }
                fills.put(NO_MORE_FILLS);
                writer.join();
            });
        }
    }

    /** Drops the cache files' (clean) pages from the page cache; false where the hint is unavailable. */
    private static boolean dropPageCache(Path cacheDir) throws IOException {
        LinuxFileHints hints = LinuxFileHints.system();
        if (!hints.available()) {
            System.out.println("# reboot read skipped: posix_fadvise unavailable (" + hints.unavailableReason() + ")");
            return false;
        }
        try (var files = Files.list(cacheDir)) {
            for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".data")).toList()) {
                // Dirty pages are not dropped: written back first.
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
                    ch.force(false);
                }
                try (HintedFile h = hints.open(f)) {
                    if (!h.fadvise(0, 0, LinuxFileHints.POSIX_FADV_DONTNEED)) {
                        return false;
                    }
                }
            }
        }
        return true;
    }

    /** Phase boundaries on stderr (wall clock, ms), to cut a flight recording into phases. */
    private static void phase(String name) {
        System.err.println("phase " + name + " " + System.currentTimeMillis());
    }

    /** CPU time of this whole process (engine, S3 client and the embedded S3Proxy), ns. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    /** The volume's open (attach: superblock, epochs, checkpoint, object list) and then its read, measured apart. */
    private static Measured[] openAndReadAll(StrataEngine engine, VolumeOptions opts, long size, SlowReads slow, int queueDepth)
            throws Exception {
        LogStructuredVolume[] v = new LogStructuredVolume[1];
        Measured open = measure(1 << 20, () -> v[0] = engine.openReadOnly("v", opts));
        try (LogStructuredVolume volume = v[0]) {
            Measured read = measure(size, () -> readVolumeAtDepth(volume, size, slow, queueDepth));
            return new Measured[] {open, read};
        }
    }

    /** Runs {@code body} on a virtual thread, as `strata serve` runs every NBD request, and waits for it. */
    private static void onVirtualThread(Body body) throws Exception {
        Exception[] failure = new Exception[1];
        Thread t = Thread.ofVirtual().name("bench-reader").start(() -> {
            try {
                body.run();
            } catch (Exception e) {
                failure[0] = e;
            }
        });
        t.join();
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    private static void readAll(StrataEngine engine, VolumeOptions opts, long size) throws IOException {
        try (LogStructuredVolume v = engine.openReadOnly("v", opts)) {
            readVolume(v, size, new SlowReads());
        }
    }

    /**
     * Reads {@code size} bytes of {@code v} from 0 in 1 MiB reads, {@code depth} of them in flight
     * (each on its own virtual thread, as `strata serve` serves concurrent NBD requests), issued in
     * offset order as a client with a queue depth (fio's iodepth, a kernel's readahead) issues them.
     */
    private static void readVolumeAtDepth(LogStructuredVolume v, long size, SlowReads slow, int depth) throws Exception {
        if (depth == 1) {
            onVirtualThread(() -> readVolume(v, size, slow));
            return;
        }
        java.util.concurrent.atomic.AtomicLong next = new java.util.concurrent.atomic.AtomicLong();
        List<Thread> readers = new ArrayList<>();
        Exception[] failure = new Exception[1];
        for (int i = 0; i < depth; i++) {
            SlowReads mine = new SlowReads();
            readers.add(Thread.ofVirtual().name("bench-reader-" + i).start(() -> {
                try {
                    readShare(v, size, next, mine);
                } catch (Exception e) {
                    synchronized (failure) {
                        failure[0] = e;
                    }
                }
                synchronized (slow) {
                    slow.maxNanos = Math.max(slow.maxNanos, mine.maxNanos);
                    slow.over8ms += mine.over8ms;
                }
            }));
        }
        for (Thread t : readers) {
            t.join();
        }
        if (failure[0] != null) {
            throw failure[0];
        }
    }

    /** Reads {@code size} bytes of {@code v} from 0 in 1 MiB reads, into a page-aligned buffer as `strata serve`'s NBD server does. */
    private static void readVolume(LogStructuredVolume v, long size, SlowReads slow) throws IOException {
        readShare(v, size, new java.util.concurrent.atomic.AtomicLong(), slow);
    }

    /** 1 MiB reads at the offsets taken from {@code next} (shared by the readers of one pass) until {@code size}. */
    private static void readShare(LogStructuredVolume v, long size, java.util.concurrent.atomic.AtomicLong next, SlowReads slow)
            throws IOException {
        ByteBuffer buf = READER_BUFFERS.poll();
        if (buf == null) {
            // As the NBD server's buffer pool cuts them: from a slab of huge pages (or, to measure
            // what that brings, on ordinary pages: -Dstrata.bench.ordinaryReaderBuffers=true).
            buf = Boolean.getBoolean("strata.bench.ordinaryReaderBuffers")
                    ? HugePageBuffers.onOrdinaryPages(1 << 20)
                    : HugePageBuffers.slab(HugePageBuffers.HUGE_PAGE).slice(0, 1 << 20);
        }
        try {
            for (long off; (off = next.getAndAdd(buf.capacity())) < size; ) {
                buf.clear();
                long t0 = System.nanoTime();
                v.read(off, buf);
                slow.add(System.nanoTime() - t0);
            }
        } finally {
            READER_BUFFERS.add(buf);
        }
    }

    /** Readers' buffers, kept from round to round as the NBD server's pool keeps them (a fresh huge page costs ms to fault in). */
    private static final java.util.concurrent.ConcurrentLinkedQueue<ByteBuffer> READER_BUFFERS = new java.util.concurrent.ConcurrentLinkedQueue<>();

    /**
     * The reader's stalls: its slowest 1 MiB read and how many took over 8 ms (a read normally
     * takes ~1 ms; stalls at object boundaries were the sign of a readahead that did not cross them).
     */
    private static final class SlowReads {
        long maxNanos;
        int over8ms;

        void add(long nanos) {
            maxNanos = Math.max(maxNanos, nanos);
            if (nanos > 8_000_000) {
                over8ms++;
            }
        }
    }

    private static void deleteTree(Path p) throws IOException {
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(q);
            }
        }
    }
}
