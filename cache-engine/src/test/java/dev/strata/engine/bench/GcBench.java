package dev.strata.engine.bench;

import dev.strata.engine.gc.GcOptions;
import dev.strata.engine.gc.GcReport;
import dev.strata.engine.readcache.ReadCacheOptions;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.volume.LogStructuredVolume;
import dev.strata.engine.volume.StrataEngine;
import dev.strata.engine.volume.VolumeOptions;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Benchmark (not a test), run by bench/gc.sh: garbage collection's write amplification and
 * bucket requests under uniform random 4 KiB overwrites (issue 5, acceptance 3).
 *
 * <p>A volume of {@code volumeMiB} is filled sequentially to {@code FILL_PCT} % of its size, then
 * overwritten in rounds of {@code roundFrac} × the filled bytes of uniform random 4 KiB writes
 * inside the filled region. After each round: {@code flushToBucket()}, one explicit
 * {@code collectGarbage()} pass (the background collector is off, so the figures do not depend
 * on thread timing), {@code flushToBucket()} again (GC objects uploaded). Map checkpoints come
 * from the volume's own sealer thread every {@code checkpointEvery} objects; a retired object is
 * deleted by the first pass after two later checkpoints (deleteGrace 0).
 *
 * <p>Every 4 KiB block carries its block number and a generation; the bench keeps the expected
 * generation of every block and at the end reads the whole filled region back, first from the
 * open volume, then from a read-only open of the bucket alone on a fresh node directory (which
 * proves GC deleted nothing still needed).
 *
 * <p>Prints one {@code round=} line per round and a final {@code run=} line (key=value).
 * Steady-state figures are over the last {@code steadyRounds} rounds.
 *
 * <p>args: WORKDIR FILL_PCT SEED [key=value...]: volumeMiB=512 objectKiB=1024 rounds=20
 * roundFrac=0.25 steadyRounds=10 threshold=0.3 checkpointEvery=8 cacheMiB=0
 */
public final class GcBench {
    private static final int BLOCK = 4096;

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int fillPct = Integer.parseInt(args[1]);
        long seed = Long.parseLong(args[2]);
        Map<String, String> o = new HashMap<>();
        for (int i = 3; i < args.length; i++) {
            String[] kv = args[i].split("=", 2);
            o.put(kv[0], kv[1]);
        }
        long volumeBytes = Long.parseLong(o.getOrDefault("volumeMiB", "512")) << 20;
        int objectBytes = Integer.parseInt(o.getOrDefault("objectKiB", "1024")) * 1024;
        int rounds = Integer.parseInt(o.getOrDefault("rounds", "20"));
        double roundFrac = Double.parseDouble(o.getOrDefault("roundFrac", "0.25"));
        int steadyRounds = Integer.parseInt(o.getOrDefault("steadyRounds", "10"));
        double threshold = Double.parseDouble(o.getOrDefault("threshold", "0.3"));
        int checkpointEvery = Integer.parseInt(o.getOrDefault("checkpointEvery", "8"));
        long cacheBytes = Long.parseLong(o.getOrDefault("cacheMiB", "0")) << 20;

        CountingObjectStore store = new CountingObjectStore(new LocalDirectoryObjectStore(dir.resolve("bucket")));
        StrataEngine engine = new StrataEngine(store, dir.resolve("node"), "gc-bench");
        String name = "gc-" + fillPct + "-" + seed;
        engine.createVolume(name, volumeBytes);
        GcOptions gc = GcOptions.defaults().withEnabled(false).withLiveThreshold(threshold)
                .withPacing(Long.MAX_VALUE / 4, 1e9).withDeleteGrace(Duration.ZERO);
        VolumeOptions options = VolumeOptions.defaults().withObjectBytes(objectBytes)
                .withSealAfter(Duration.ofHours(1)) // objects sealed full (or by flushToBucket), never by age
                .withCheckpointEveryObjects(checkpointEvery)
                .withReadCache(cacheBytes == 0 ? ReadCacheOptions.disabled()
                        : new ReadCacheOptions(cacheBytes, 16, ReadCacheOptions.defaults().policy()))
                .withGc(gc);
        LogStructuredVolume v = engine.openForWrite(name, options, false);

        long blocks = volumeBytes / BLOCK * fillPct / 100;
        int[] gen = new int[(int) blocks];
        ByteBuffer buf = ByteBuffer.allocateDirect(256 * BLOCK);

        // Fill: sequential 1 MiB writes, generation 0.
        for (long b = 0; b < blocks; b += 256) {
            int n = (int) Math.min(256, blocks - b);
            buf.clear();
            for (int i = 0; i < n; i++) {
                pattern(buf, b + i, 0);
            }
            buf.flip();
            v.write(b * BLOCK, buf, false);
        }
        v.flushToBucket();
        Snap fill = Snap.of(store, 0);
        System.out.printf("fill fill_pct=%d filled_MiB=%.1f objects=%d %s%n", fillPct, blocks * (double) BLOCK / (1 << 20),
                store.storedObjects()[1], fill);

        SplittableRandom rnd = new SplittableRandom(seed);
        long perRound = (long) (blocks * roundFrac);
        ByteBuffer one = ByteBuffer.allocateDirect(BLOCK);
        long user = 0;
        Snap[] at = new Snap[rounds + 1];
        at[0] = fill;
        long copied = 0;
        for (int r = 1; r <= rounds; r++) {
            for (long i = 0; i < perRound; i++) {
                long b = rnd.nextLong(blocks);
                int g = ++gen[(int) b];
                one.clear();
                pattern(one, b, g);
                one.flip();
                v.write(b * BLOCK, one, false);
            }
            user += perRound * BLOCK;
            v.flushToBucket();
            GcReport rep = v.collectGarbage();
            v.flushToBucket();
            copied += rep.bytesCopied();
            at[r] = Snap.of(store, user);
            Snap d = at[r].minus(at[r - 1]);
            System.out.printf("round=%d written_x_filled=%.2f wa=%.3f gc_copy=%.3f space_amp=%.3f objects=%d compacted=%d "
                    + "gc_objects=%d retired=%d deleted=%d waiting=%d puts_per_GiB=%.1f deletes_per_GiB=%.1f gets_per_GiB=%.1f%n",
                    r, user / (double) (blocks * BLOCK), d.dataWa(), d.gcCopy(), at[r].stored / (double) (blocks * BLOCK),
                    at[r].storedObjects, rep.objectsCompacted(), rep.gcObjectsWritten(), rep.objectsRetired(), rep.objectsDeleted(),
                    rep.objectsWaiting(), d.perGiB(d.puts), d.perGiB(d.deletes), d.perGiB(d.gets));
        }

        // Verify: the open volume, then the bucket alone.
        long bad = verify(v, gen);
        String gcStats = v.gcStats();
        v.close();
        engine.close();
        // The engine closed the store: a new one on the same directory, and a node that never held the volume.
        StrataEngine fresh = new StrataEngine(new LocalDirectoryObjectStore(dir.resolve("bucket")), dir.resolve("node-verify"),
                "gc-bench-verify");
        LogStructuredVolume ro = fresh.openReadOnly(name, options.withReadCache(ReadCacheOptions.disabled()));
        long badReopened = verify(ro, gen);
        ro.close();
        fresh.close();

        int from = Math.max(0, rounds - steadyRounds);
        Snap s = at[rounds].minus(at[from]);
        Snap all = at[rounds].minus(at[0]);
        double sumSpace = 0;
        for (int r = from + 1; r <= rounds; r++) {
            sumSpace += at[r].stored / (double) (blocks * BLOCK);
        }
        System.out.printf("run=%d fill_pct=%d seed=%d volume_MiB=%d object_KiB=%d threshold=%.2f rounds=%d round_frac=%.2f "
                + "written_x_filled=%.2f steady_rounds=%d wa=%.3f wa_with_headers=%.3f wa_with_checkpoints=%.3f gc_copy=%.3f "
                + "wa_all_rounds=%.3f space_amp=%.3f puts_per_GiB=%.1f data_puts_per_GiB=%.1f gc_puts_per_GiB=%.1f "
                + "checkpoint_puts_per_GiB=%.1f deletes_per_GiB=%.1f gets_per_GiB=%.1f lists_per_GiB=%.1f "
                + "get_bytes_per_byte=%.3f header_frac=%.4f checkpoint_frac=%.4f verify_errors=%d verify_errors_reopened=%d%n",
                seed, fillPct, seed, volumeBytes >> 20, objectBytes >> 10, threshold, rounds, roundFrac,
                user / (double) (blocks * BLOCK), rounds - from, s.dataWa(), s.objectWa(), s.totalWa(), s.gcCopy(),
                all.dataWa(), sumSpace / (rounds - from), s.perGiB(s.puts), s.perGiB(s.userPuts), s.perGiB(s.gcPuts),
                s.perGiB(s.checkpointPuts), s.perGiB(s.deletes), s.perGiB(s.gets), s.perGiB(s.lists),
                s.getBytes / (double) s.user, (s.userHeader + s.gcHeader) / (double) s.user, s.checkpointBytes / (double) s.user, bad, badReopened);
        System.out.println("gcstats " + gcStats + " bytesCopiedTotal=" + copied);
        if (bad != 0 || badReopened != 0) {
            System.err.println("VERIFY FAILED: " + bad + " bad blocks in the open volume, " + badReopened + " after reopening");
            System.exit(2);
        }
    }

    /** Appends block {@code b} of generation {@code g}: every 8-byte word depends on both and on its position. */
    private static void pattern(ByteBuffer buf, long b, int g) {
        long x = (b * 0x9E3779B97F4A7C15L) ^ ((long) g << 40) ^ 0x5DEECE66DL;
        buf.putLong(b);
        buf.putLong(g);
        for (int i = 2; i < BLOCK / 8; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            buf.putLong(x);
        }
    }

    /** Reads every filled block back; returns how many differ from the model. */
    private static long verify(LogStructuredVolume v, int[] gen) throws Exception {
        ByteBuffer got = ByteBuffer.allocateDirect(256 * BLOCK);
        ByteBuffer want = ByteBuffer.allocateDirect(BLOCK);
        long bad = 0;
        for (long b = 0; b < gen.length; b += 256) {
            int n = (int) Math.min(256, gen.length - b);
            got.clear().limit(n * BLOCK);
            v.read(b * BLOCK, got);
            for (int i = 0; i < n; i++) {
                want.clear();
                pattern(want, b + i, gen[(int) (b + i)]);
                want.flip();
                if (!got.slice(i * BLOCK, BLOCK).equals(want)) {
                    if (bad < 5) {
                        System.err.printf("block %d: want generation %d, found block %d generation %d%n", b + i, gen[(int) (b + i)],
                                got.getLong(i * BLOCK), got.getLong(i * BLOCK + 8));
                    }
                    bad++;
                }
            }
        }
        return bad;
    }

    /** Counters at one point. */
    private record Snap(long user, long puts, long gets, long getBytes, long lists, long deletes, long userPuts, long userHeader, long userData,
            long gcPuts, long gcHeader, long gcData, long checkpointPuts, long checkpointBytes, long stored, long storedObjects) {
        static Snap of(CountingObjectStore s, long user) {
            long[] st = s.storedObjects();
            return new Snap(user, s.puts.sum(), s.gets.sum(), s.getBytes.sum(), s.lists.sum(), s.deletes.sum(), s.userObjectPuts.sum(),
                    s.userObjectHeaderBytes.sum(), s.userObjectDataBytes.sum(), s.gcObjectPuts.sum(), s.gcObjectHeaderBytes.sum(),
                    s.gcObjectDataBytes.sum(), s.checkpointPuts.sum(), s.checkpointBytes.sum(), st[0], st[1]);
        }

        Snap minus(Snap o) {
            return new Snap(user - o.user, puts - o.puts, gets - o.gets, getBytes - o.getBytes, lists - o.lists, deletes - o.deletes, userPuts - o.userPuts,
                    userHeader - o.userHeader, userData - o.userData, gcPuts - o.gcPuts, gcHeader - o.gcHeader, gcData - o.gcData,
                    checkpointPuts - o.checkpointPuts, checkpointBytes - o.checkpointBytes, stored, storedObjects);
        }

        /** Data bytes of all data objects (normal and GC) per user byte. */
        double dataWa() {
            return (userData + gcData) / (double) user;
        }

        /** As {@link #dataWa()} with the object headers. */
        double objectWa() {
            return (userData + gcData + userHeader + gcHeader) / (double) user;
        }

        /** Everything PUT (objects, checkpoints, other) per user byte. */
        double totalWa() {
            return (userData + gcData + userHeader + gcHeader + checkpointBytes) / (double) user;
        }

        double gcCopy() {
            return gcData / (double) user;
        }

        double perGiB(long n) {
            return n / (user / (double) (1L << 30));
        }

        @Override
        public String toString() {
            return "puts=" + puts + " user_data_bytes=" + userData + " user_header_bytes=" + userHeader + " checkpoints=" + checkpointPuts;
        }
    }
}
