package dev.strata.engine.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The behaviour every {@link ObjectStore} promises; each implementation's test extends this class.
 * Each test gets a fresh, empty store from {@link #openStore()}.
 */
public abstract class ObjectStoreContractTest {

    protected ObjectStore store;

    /** A new, empty store; closed by the contract after each test. */
    protected abstract ObjectStore openStore() throws Exception;

    @BeforeEach
    void openFreshStore() throws Exception {
        store = openStore();
    }

    @AfterEach
    void closeStore() throws Exception {
        if (store != null) {
            store.close();
        }
    }

    protected static byte[] randomBytes(int n, long seed) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    protected static ByteBuffer buf(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    /** A listing without its times, to compare with expected keys and sizes. */
    static List<ObjectInfo> keysAndSizes(List<ObjectInfo> listed) {
        return listed.stream().map(o -> new ObjectInfo(o.key(), o.size())).toList();
    }

    @Test
    void aListingSaysWhenEachObjectWasLastWrittenByTheStoresClock() throws Exception {
        java.time.Instant before = java.time.Instant.now().minusSeconds(5); // S3 times are whole seconds; clocks may differ a little
        store.put("v/first", buf("1"));
        Thread.sleep(1100);
        store.put("v/second", buf("2"));
        java.time.Instant after = java.time.Instant.now().plusSeconds(5);
        List<ObjectInfo> listed = store.list("v/");
        assertEquals(2, listed.size());
        for (ObjectInfo o : listed) {
            assertTrue(o.lastModified() != null && o.lastModified().isAfter(before) && o.lastModified().isBefore(after),
                    o + " between " + before + " and " + after);
        }
        assertTrue(listed.get(1).lastModified().isAfter(listed.get(0).lastModified()),
                "written a second later, listed as later (epoch pruning compares these times): " + listed);
        assertEquals(listed.get(1).lastModified(), store.listAfter("v/", "v/first").getFirst().lastModified());
    }

    @Test
    void emptyObjectRoundTrips() throws Exception {
        store.put("v/empty", ByteBuffer.allocate(0));
        assertArrayEquals(new byte[0], store.get("v/empty"));
        assertEquals(List.of(new ObjectInfo("v/empty", 0)), keysAndSizes(store.list("v/")));
    }

    @Test
    void oneByteObjectRoundTrips() throws Exception {
        store.put("v/one", ByteBuffer.wrap(new byte[] {42}));
        assertArrayEquals(new byte[] {42}, store.get("v/one"));
    }

    @Test
    void fiveMebibyteRandomObjectRoundTrips() throws Exception {
        byte[] data = randomBytes(5 << 20, 1);
        store.put("v/objects/0000000000000001", ByteBuffer.wrap(data));
        assertArrayEquals(data, store.get("v/objects/0000000000000001"));
    }

    @Test
    void putStoresOnlyTheRemainingBytesAndLeavesTheBufferAlone() throws Exception {
        ByteBuffer data = ByteBuffer.wrap("xxhelloyy".getBytes(StandardCharsets.UTF_8), 2, 5);
        store.put("k", data);
        assertEquals(2, data.position());
        assertEquals(5, data.remaining());
        assertArrayEquals("hello".getBytes(StandardCharsets.UTF_8), store.get("k"));
    }

    @Test
    void directBufferIsStored() throws Exception {
        byte[] data = randomBytes(70_000, 2);
        ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data).flip();
        store.put("k", direct);
        assertArrayEquals(data, store.get("k"));
    }

    @Test
    void putOverwritesAnExistingObject() throws Exception {
        store.put("k", buf("first version"));
        store.put("k", buf("second"));
        assertArrayEquals("second".getBytes(StandardCharsets.UTF_8), store.get("k"));
        assertEquals(List.of(new ObjectInfo("k", 6)), keysAndSizes(store.list("")));
    }

    @Test
    void putIfAbsentCreatesOnceAndNeverOverwrites() throws Exception {
        assertTrue(store.putIfAbsent("v/epoch/0000000001", buf("node-a")));
        assertFalse(store.putIfAbsent("v/epoch/0000000001", buf("node-b")));
        assertArrayEquals("node-a".getBytes(StandardCharsets.UTF_8), store.get("v/epoch/0000000001"));
    }

    @Test
    void concurrentPutIfAbsentHasExactlyOneWinner() throws Exception {
        int threads = 8;
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            CountDownLatch start = new CountDownLatch(1);
            List<Future<Boolean>> results = new ArrayList<>();
            for (int i = 0; i < threads; i++) {
                String content = "writer-" + i;
                results.add(pool.submit(() -> {
                    start.await();
                    return store.putIfAbsent("v/fence", buf(content));
                }));
            }
            start.countDown();
            int winners = 0;
            String winnerContent = null;
            for (int i = 0; i < threads; i++) {
                if (results.get(i).get()) {
                    winners++;
                    winnerContent = "writer-" + i;
                }
            }
            assertEquals(1, winners, "exactly one conditional create must win");
            assertEquals(winnerContent, new String(store.get("v/fence"), StandardCharsets.UTF_8));
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void rangedGetReadsTheMiddle() throws Exception {
        byte[] data = randomBytes(10_000, 3);
        store.put("k", ByteBuffer.wrap(data));
        ByteBuffer dst = ByteBuffer.allocate(1000);
        assertEquals(1000, store.getRange("k", 4096, dst));
        assertEquals(1000, dst.position());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 4096, 5096), dst.array());
    }

    @Test
    void rangedGetIntoADirectBufferAtAnOffset() throws Exception {
        byte[] data = randomBytes(10_000, 4);
        store.put("k", ByteBuffer.wrap(data));
        ByteBuffer dst = ByteBuffer.allocateDirect(600).position(100);
        assertEquals(500, store.getRange("k", 9, dst));
        byte[] got = new byte[500];
        dst.flip().position(100);
        dst.get(got);
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 9, 509), got);
    }

    @Test
    void rangedGetOfTheTailReturnsFewerBytesThanAsked() throws Exception {
        byte[] data = randomBytes(1000, 5);
        store.put("k", ByteBuffer.wrap(data));
        ByteBuffer dst = ByteBuffer.allocate(4096);
        assertEquals(100, store.getRange("k", 900, dst));
        assertEquals(100, dst.position());
        assertArrayEquals(java.util.Arrays.copyOfRange(data, 900, 1000), java.util.Arrays.copyOf(dst.array(), 100));
    }

    @Test
    void rangedGetAtOrPastTheEndReturnsMinusOne() throws Exception {
        store.put("k", ByteBuffer.wrap(randomBytes(1000, 6)));
        assertEquals(-1, store.getRange("k", 1000, ByteBuffer.allocate(10)));
        assertEquals(-1, store.getRange("k", 5000, ByteBuffer.allocate(10)));
        store.put("empty", ByteBuffer.allocate(0));
        assertEquals(-1, store.getRange("empty", 0, ByteBuffer.allocate(10)));
    }

    @Test
    void rangedGetOfAMissingKeyThrowsNoSuchObject() {
        NoSuchObjectException e = assertThrows(NoSuchObjectException.class,
                () -> store.getRange("v/missing", 0, ByteBuffer.allocate(10)));
        assertTrue(e.getMessage().contains("v/missing"), e.getMessage());
    }

    @Test
    void listIsSortedAscendingWithSizesAndFilteredByPrefix() throws Exception {
        store.put("v/objects/0000000000000010", ByteBuffer.allocate(10));
        store.put("v/objects/0000000000000002", ByteBuffer.allocate(2));
        store.put("v/objects/0000000000000001", ByteBuffer.allocate(1));
        store.put("v/checkpoints/0000000000000001", ByteBuffer.allocate(3));
        store.put("w/objects/0000000000000001", ByteBuffer.allocate(4));
        store.put("v/objects-old", ByteBuffer.allocate(5));

        assertEquals(List.of(
                new ObjectInfo("v/objects/0000000000000001", 1),
                new ObjectInfo("v/objects/0000000000000002", 2),
                new ObjectInfo("v/objects/0000000000000010", 10)), keysAndSizes(store.list("v/objects/")));
        assertEquals(List.of(
                new ObjectInfo("v/objects/0000000000000010", 10)), keysAndSizes(store.list("v/objects/000000000000001")));
        assertEquals(List.of(
                new ObjectInfo("v/objects-old", 5),
                new ObjectInfo("v/objects/0000000000000001", 1),
                new ObjectInfo("v/objects/0000000000000002", 2),
                new ObjectInfo("v/objects/0000000000000010", 10)), keysAndSizes(store.list("v/objects")));
        List<ObjectInfo> all = store.list("");
        assertEquals(6, all.size());
        List<String> keys = all.stream().map(ObjectInfo::key).toList();
        assertEquals(keys.stream().sorted().toList(), keys);
        assertEquals(List.of(), store.list("x/"));
    }

    @Test
    void listAfterReturnsOnlyTheKeysAfterTheGivenOneInOrder() throws Exception {
        for (String k : List.of("v/objects/0000000000000001-0000000000000001", "v/objects/0000000000000002-0000000000000001",
                "v/objects/0000000000000002-0000000000000003", "v/objects/0000000000000003-0000000000000002",
                "v/objects/0000000000000010-0000000000000001", "w/objects/0000000000000009-0000000000000001")) {
            store.put(k, ByteBuffer.allocate(1));
        }
        // Everything of sequence number 2 (any epoch) and before is skipped, as a volume's open skips what its checkpoint covers.
        assertEquals(List.of("v/objects/0000000000000003-0000000000000002", "v/objects/0000000000000010-0000000000000001"),
                store.listAfter("v/objects/", "v/objects/0000000000000002-ffffffffffffffff").stream().map(ObjectInfo::key).toList());
        assertEquals(List.of("v/objects/0000000000000002-0000000000000003", "v/objects/0000000000000003-0000000000000002",
                "v/objects/0000000000000010-0000000000000001"),
                store.listAfter("v/objects/", "v/objects/0000000000000002-0000000000000001").stream().map(ObjectInfo::key).toList());
        assertEquals(store.list("v/objects/"), store.listAfter("v/objects/", "v/"), "a key before them all: all of them");
        assertEquals(store.list("v/objects/"), store.listAfter("v/objects/", null));
        assertEquals(List.of(), store.listAfter("v/objects/", "v/objects/1"), "a key after them all: none");
    }

    @Test
    void deleteRemovesTheObjectAndIsIdempotent() throws Exception {
        store.put("v/k", buf("data"));
        store.delete("v/k");
        assertThrows(NoSuchObjectException.class, () -> store.get("v/k"));
        assertEquals(List.of(), store.list("v/"));
        store.delete("v/k");
        store.delete("never/existed");
    }

    @Test
    void getOfAMissingKeyThrowsNoSuchObjectNamingTheKey() {
        NoSuchObjectException e = assertThrows(NoSuchObjectException.class, () -> store.get("v/objects/0000000000000099"));
        assertEquals("v/objects/0000000000000099", e.key());
        assertTrue(e.getMessage().contains("v/objects/0000000000000099"), e.getMessage());
        assertTrue(e.getMessage().contains(store.describe()), e.getMessage());
    }

    @Test
    void statsCountEveryKindOfRequestAndTheBytes() throws Exception {
        ObjectStoreStats s = store.stats();
        store.put("a", ByteBuffer.allocate(100));
        store.putIfAbsent("b", ByteBuffer.allocate(10));
        store.putIfAbsent("b", ByteBuffer.allocate(10));
        store.get("a");
        store.getRange("a", 50, ByteBuffer.allocate(20));
        store.list("");
        store.delete("a");

        assertEquals(1, s.puts.sum());
        assertEquals(2, s.conditionalPuts.sum());
        assertEquals(3, s.putRequests());
        assertEquals(1, s.gets.sum());
        assertEquals(1, s.rangedGets.sum());
        assertEquals(2, s.getRequests());
        assertEquals(1, s.lists.sum());
        assertEquals(1, s.deletes.sum());
        assertEquals(110, s.bytesPut.sum(), "bytes of the plain put and the one conditional create that wrote");
        assertEquals(120, s.bytesGot.sum());
        assertEquals(0, s.retries.sum());
    }

    @Test
    void describeIsNotBlank() {
        assertFalse(store.describe().isBlank());
    }
}
