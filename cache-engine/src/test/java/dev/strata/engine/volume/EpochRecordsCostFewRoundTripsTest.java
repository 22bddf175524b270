package dev.strata.engine.volume;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.strata.engine.objectlog.VolumeKeys;
import dev.strata.engine.store.ForwardingObjectStore;
import dev.strata.engine.store.LocalDirectoryObjectStore;
import dev.strata.engine.store.ObjectInfo;
import dev.strata.engine.store.ObjectStore;
import dev.strata.engine.store.ObjectStoreException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every open of a volume reads all its epoch records (one per open for writing, until pruning
 * deletes those no open needs: a volume whose epochs left orphans keeps many): they are fetched
 * several at a time, so that a volume with a thousand records does not take a thousand store
 * round trips in a row to open — and the history built from them is the same, with the same
 * errors, as one fetched a record at a time. A writer's periodic fence check needs none of them:
 * one LIST of the epochs after its own, and the record of a newer epoch only if there is one.
 */
class EpochRecordsCostFewRoundTripsTest {
    private static final int EPOCHS = 24;

    @TempDir
    Path tmp;

    /** A store whose epoch-record GETs take {@code delayMs} each and which counts how many overlap. */
    private static final class SlowEpochGets extends ForwardingObjectStore {
        final AtomicInteger inFlight = new AtomicInteger();
        final AtomicInteger maxInFlight = new AtomicInteger();
        final AtomicInteger gets = new AtomicInteger();
        /** Keys under {@code epochs/} that LISTs returned. */
        final AtomicInteger listedEpochKeys = new AtomicInteger();
        final String epochsPrefix;
        volatile int delayMs;

        SlowEpochGets(ObjectStore store, String epochsPrefix) {
            super(store);
            this.epochsPrefix = epochsPrefix;
        }

        @Override
        public java.util.List<ObjectInfo> listAfter(String prefix, String startAfter) throws IOException {
            java.util.List<ObjectInfo> listed = super.listAfter(prefix, startAfter);
            if (prefix.equals(epochsPrefix)) {
                listedEpochKeys.addAndGet(listed.size());
            }
            return listed;
        }

        @Override
        public byte[] get(String key) throws IOException {
            if (!key.startsWith(epochsPrefix) || delayMs == 0) {
                return super.get(key);
            }
            gets.incrementAndGet();
            maxInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
            try {
                Thread.sleep(delayMs);
                return super.get(key);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new java.io.InterruptedIOException();
            } finally {
                inFlight.decrementAndGet();
            }
        }
    }

    /**
     * A volume with {@code times} epochs, each opened and released, whose records are all still
     * there (as when every epoch left an orphan that keeps its successor's record): written as
     * writers write them, with fences 0, 10, 20...
     */
    private SlowEpochGets volumeWithEpochs(int times) throws Exception {
        VolumeKeys keys = new VolumeKeys("v");
        SlowEpochGets store = new SlowEpochGets(new LocalDirectoryObjectStore(tmp.resolve("bucket")), keys.epochsPrefix());
        StrataEngine engine = new StrataEngine(store, tmp.resolve("node"), "node-a");
        engine.createVolume("v", 1 << 20);
        for (long e = 1; e <= times; e++) {
            EpochRecord r = new EpochRecord(e, "node-a", "node-a (test)", 10 * (e - 1), java.time.Instant.now());
            assertTrue(store.putIfAbsent(keys.epoch(e), ByteBuffer.wrap(r.encode("v"))));
            store.put(keys.epochReleased(e), ByteBuffer.wrap(("released " + r.opened() + "\n").getBytes(StandardCharsets.UTF_8)));
        }
        return store;
    }

    @Test
    void aVolumeOpenedManyTimesLoadsItsEpochRecordsSeveralAtATime() throws Exception {
        SlowEpochGets store = volumeWithEpochs(EPOCHS);
        VolumeKeys keys = new VolumeKeys("v");
        store.delayMs = 30;
        EpochHistory h = EpochHistory.load(store, keys);

        assertEquals(EPOCHS, store.gets.get(), "one GET per epoch record");
        assertTrue(store.maxInFlight.get() >= 4, "epoch records fetched one after another: at most " + store.maxInFlight.get() + " at once");
        assertTrue(store.maxInFlight.get() <= EpochHistory.CONCURRENT_GETS, "bounded: " + store.maxInFlight.get());

        // The same history as the records say, one by one.
        assertEquals(EPOCHS, h.latestEpoch());
        assertEquals(EPOCHS, h.latest().epoch());
        for (long e = 1; e <= EPOCHS; e++) {
            assertTrue(h.isReleased(e), "epoch " + e + " was closed cleanly");
            long expectedFence = e == EPOCHS ? Long.MAX_VALUE
                    : EpochRecord.decode(store.get(keys.epoch(e + 1)), keys.epoch(e + 1)).fenceObjectSeq();
            assertEquals(expectedFence, h.fenceOf(e), "fence of epoch " + e);
        }
    }

    @Test
    void aCorruptRecordAmongManyStillFailsTheLoadNamingIt() throws Exception {
        SlowEpochGets store = volumeWithEpochs(EPOCHS);
        VolumeKeys keys = new VolumeKeys("v");
        String bad = keys.epoch(7);
        store.put(bad, ByteBuffer.wrap("strata-epoch but not really".getBytes(StandardCharsets.UTF_8)));
        store.delayMs = 5;

        CorruptDataException e = assertThrows(CorruptDataException.class, () -> EpochHistory.load(store, keys));
        assertTrue(e.getMessage().contains(bad), e.getMessage());
    }

    @Test
    void aStoreFailureAmongManyFailsTheLoadWithTheStoresError() throws Exception {
        VolumeKeys keys = new VolumeKeys("v");
        SlowEpochGets healthy = volumeWithEpochs(EPOCHS);
        String failing = keys.epoch(11);
        ObjectStore store = new ForwardingObjectStore(healthy) {
            @Override
            public byte[] get(String key) throws IOException {
                if (key.equals(failing)) {
                    throw new ObjectStoreException("test store", key, "503 Slow Down");
                }
                return super.get(key);
            }
        };

        ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> EpochHistory.load(store, keys));
        assertTrue(e.getMessage().contains(failing), e.getMessage());
    }

    @Test
    void aRecordDeletedBetweenTheListingAndItsGetIsSkipped() throws Exception {
        VolumeKeys keys = new VolumeKeys("v");
        SlowEpochGets healthy = volumeWithEpochs(3);
        String gone = keys.epoch(2);
        ObjectStore store = new ForwardingObjectStore(healthy) {
            @Override
            public java.util.List<ObjectInfo> list(String prefix) throws IOException {
                java.util.List<ObjectInfo> listed = super.list(prefix);
                if (prefix.equals(keys.epochsPrefix())) {
                    healthy.delete(gone); // deleted right after the listing saw it
                }
                return listed;
            }
        };

        EpochHistory h = EpochHistory.load(store, keys);
        assertEquals(3, h.latestEpoch());
        assertEquals(EpochRecord.decode(healthy.get(keys.epoch(3)), keys.epoch(3)).fenceObjectSeq(), h.fenceOf(1),
                "without epoch 2's record, epoch 1 is fenced by epoch 3's");
    }

    @Test
    void aWritersFenceCheckListsTheEpochsAndFetchesOnlyANewerOnesRecord() throws Exception {
        SlowEpochGets store = volumeWithEpochs(EPOCHS);
        VolumeOptions opts = VolumeOptions.defaults();
        StrataEngine a = new StrataEngine(store, tmp.resolve("a"), "node-a");
        StrataEngine b = new StrataEngine(store, tmp.resolve("b"), "node-b");
        try (LogStructuredVolume va = a.openForWrite("v", opts, true)) {
            va.awaitEpochPruning(); // its requests are the open's, not the check's
            store.delayMs = 1;
            store.gets.set(0);
            store.listedEpochKeys.set(0);
            va.checkFence();
            assertEquals(0, store.gets.get(), "no newer epoch: the periodic check is a LIST, not a GET per past epoch");
            assertEquals(0, store.listedEpochKeys.get(), "the check lists only the epochs after its own, not the "
                    + EPOCHS + " before it");
            va.write(0, ByteBuffer.wrap(new byte[4096]), false); // not fenced

            try (LogStructuredVolume vb = b.openForWrite("v", opts, true)) {
                vb.awaitEpochPruning();
                store.gets.set(0);
                store.listedEpochKeys.set(0);
                va.checkFence();
                assertEquals(1, store.gets.get(), "fenced: only the newer epoch's record, for its holder");
                assertEquals(1, store.listedEpochKeys.get(), "only the newer epoch's record is listed");
                VolumeFencedException e = assertThrows(VolumeFencedException.class,
                        () -> va.write(0, ByteBuffer.wrap(new byte[4096]), false));
                assertTrue(e.getMessage().contains("epoch " + vb.epoch()) && e.getMessage().contains("node-b"), e.getMessage());
            }
        }
    }

    @Test
    void aNewerEpochWhoseRecordIsUnreadableStillFences() throws Exception {
        VolumeKeys keys = new VolumeKeys("v");
        SlowEpochGets store = volumeWithEpochs(3);
        assertEquals(null, EpochHistory.newerThan(store, keys, 3));
        store.put(keys.epoch(9), ByteBuffer.wrap("garbage".getBytes(StandardCharsets.UTF_8)));
        EpochRecord newer = EpochHistory.newerThan(store, keys, 3);
        assertEquals(9, newer.epoch());
        assertTrue(newer.holderDescription().contains(keys.epoch(9)), newer.holderDescription());
        assertEquals(9, EpochHistory.newerThan(store, keys, 8).epoch());
        assertEquals(null, EpochHistory.newerThan(store, keys, 9));
    }
}
