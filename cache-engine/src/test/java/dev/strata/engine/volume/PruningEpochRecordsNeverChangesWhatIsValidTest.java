package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentSkipListMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;

/**
 * The property epoch pruning must keep (docs/format.md, "Pruning epoch records"): for every
 * object and checkpoint in the bucket, the history an open loads after pruning judges it valid
 * exactly when the history of every record ever written would. Random attach histories over
 * three nodes: clean sessions, crashed ones, take-overs whose stale writer keeps uploading past
 * the new fence (and then closes or crashes), and prunings cut short at random deletes.
 */
class PruningEpochRecordsNeverChangesWhatIsValidTest {
    private static final VolumeKeys KEYS = new VolumeKeys("v");
    private static final VolumeOptions NO_GRACE = VolumeOptions.defaults()
            .withGc(VolumeOptions.defaults().gc().withDeleteGrace(Duration.ZERO));
    private static final int STEPS = 18;

    @TempDir
    Path tmp;

    /** Remembers every epoch record created; fails deletes under {@code epochs/} at random (a pruning cut short). */
    private static final class RecordingStore extends ForwardingObjectStore {
        final Map<Long, Long> fenceOfRecord = new ConcurrentSkipListMap<>();
        final SplittableRandom random;
        volatile double deleteFailure;

        RecordingStore(ObjectStore store, long seed) {
            super(store);
            this.random = new SplittableRandom(seed);
        }

        @Override
        public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
            ByteBuffer copy = data.duplicate();
            boolean created = super.putIfAbsent(key, data);
            if (created && key.startsWith(KEYS.epochsPrefix())) {
                byte[] bytes = new byte[copy.remaining()];
                copy.get(bytes);
                EpochRecord r = EpochRecord.decode(bytes, key);
                fenceOfRecord.put(r.epoch(), r.fenceObjectSeq());
            }
            return created;
        }

        @Override
        public void delete(String key) throws IOException {
            boolean fail;
            synchronized (random) {
                fail = key.startsWith(KEYS.epochsPrefix()) && random.nextDouble() < deleteFailure;
            }
            if (fail) {
                throw new IOException("injected: delete of " + key + " failed");
            }
            super.delete(key);
        }

        /** Validity by every record ever written. */
        boolean validByAllRecords(long seq, long epoch) {
            TreeMap<Long, Long> all = new TreeMap<>(fenceOfRecord);
            if (all.isEmpty() || epoch > all.lastKey()) {
                return false;
            }
            var next = all.higherEntry(epoch);
            return next == null || seq <= next.getValue();
        }
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 2, 3, 4, 5, 6})
    void everyKeyIsJudgedAsByTheFullHistory(long seed) throws Exception {
        RecordingStore store = new RecordingStore(new LocalDirectoryObjectStore(tmp.resolve("bucket")), seed);
        StrataEngine[] nodes = new StrataEngine[3];
        for (int i = 0; i < nodes.length; i++) {
            nodes[i] = new StrataEngine(store, tmp.resolve("node" + i), "node-" + i);
        }
        nodes[0].createVolume("v", 1 << 20);
        SplittableRandom r = new SplittableRandom(seed);
        int pruned = 0;
        int keptForOrphans = 0;
        for (int step = 0; step < STEPS; step++) {
            store.deleteFailure = r.nextInt(3) == 0 ? 0.4 : 0;
            StrataEngine x = nodes[r.nextInt(nodes.length)];
            LogStructuredVolume v = x.openForWrite("v", NO_GRACE, true);
            EpochPruner.Pruned p = v.awaitEpochPruning();
            if (p != null) {
                pruned += p.records();
                keptForOrphans += p.keptForOrphans();
            }
            writeSome(v, r);
            switch (r.nextInt(3)) {
                case 0 -> v.close();
                case 1 -> { // crash: what was flushed is in the bucket, the rest in the journal
                    if (r.nextBoolean()) {
                        v.flushToBucket();
                    }
                    v.crashForTest(false);
                }
                default -> { // taken over by another node while still running
                    StrataEngine y = nodes[(Arrays.asList(nodes).indexOf(x) + 1 + r.nextInt(nodes.length - 1)) % nodes.length];
                    LogStructuredVolume w = y.openForWrite("v", NO_GRACE, true);
                    EpochPruner.Pruned q = w.awaitEpochPruning();
                    if (q != null) {
                        pruned += q.records();
                        keptForOrphans += q.keptForOrphans();
                    }
                    writeSome(v, r); // the stale writer uploads past the new fence
                    v.flushToBucket();
                    if (r.nextBoolean()) {
                        v.checkFence();
                        v.close();
                    } else {
                        v.crashForTest(false);
                    }
                    writeSome(w, r);
                    if (r.nextBoolean()) {
                        w.close();
                    } else {
                        w.crashForTest(false);
                    }
                }
            }
            assertEveryKeyJudgedAsByAllRecords(store, "seed " + seed + " step " + step);
        }
        assertTrue(pruned > 0, "seed " + seed + ": nothing was ever pruned");
        assertTrue(store.list(KEYS.epochsPrefix()).size() < store.fenceOfRecord.size(),
                "seed " + seed + ": fewer records than epochs");
        System.out.printf("seed %d: %d epochs, %d records left, %d pruned, kept for orphans %d times%n", seed,
                store.fenceOfRecord.size(), store.list(KEYS.epochsPrefix()).size(), pruned, keptForOrphans);
    }

    private static void writeSome(LogStructuredVolume v, SplittableRandom r) throws IOException {
        int n = 1 + r.nextInt(6);
        for (int i = 0; i < n; i++) {
            byte[] b = new byte[4096];
            Arrays.fill(b, (byte) r.nextInt(256));
            v.write(4096L * r.nextInt(256), ByteBuffer.wrap(b), false);
            if (r.nextInt(3) == 0) {
                v.flushToBucket(); // an object per flush: many keys to judge
            }
        }
    }

    private static void assertEveryKeyJudgedAsByAllRecords(RecordingStore store, String where) throws IOException {
        EpochHistory loaded = EpochHistory.load(store, KEYS);
        int judged = 0;
        for (String prefix : new String[] {KEYS.objectsPrefix(), KEYS.checkpointsPrefix()}) {
            for (ObjectInfo o : store.list(prefix)) {
                long[] se = VolumeKeys.parseSeqEpoch(o.key(), prefix);
                if (se != null) {
                    assertEquals(store.validByAllRecords(se[0], se[1]), loaded.isValid(se[0], se[1]), where + ": " + o.key());
                    judged++;
                }
            }
        }
        assertTrue(judged > 0, where);
    }
}
