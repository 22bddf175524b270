package dev.strata.engine.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The contract against a real S3Proxy, plus what only S3 has: prefixes, multipart, HTTP errors. */
class S3ObjectStoreTest extends ObjectStoreContractTest {
    private static final String BUCKET = "strata-test";
    private static final AtomicInteger VOLUMES = new AtomicInteger();

    private static S3ProxyServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = S3ProxyServer.start();
        server.createBucket(BUCKET);
    }

    @AfterAll
    static void stopServer() throws Exception {
        if (server != null) {
            server.close();
        }
    }

    /** Each test gets its own key prefix in the shared bucket, so it starts empty. */
    @Override
    protected ObjectStore openStore() {
        return new S3ObjectStore(server.config(BUCKET).keyPrefix("vol-" + VOLUMES.incrementAndGet()).build());
    }

    @Test
    void describeNamesBucketAndPrefix() {
        assertTrue(store.describe().matches("s3://strata-test/vol-\\d+"), store.describe());
    }

    @Test
    void keysAreStoredUnderTheKeyPrefixAndListedWithoutIt() throws Exception {
        try (S3ObjectStore a = new S3ObjectStore(server.config(BUCKET).keyPrefix("/tenant-a/").build());
             S3ObjectStore whole = new S3ObjectStore(server.config(BUCKET).build())) {
            a.put("v/1", buf("a"));
            assertEquals(List.of(new ObjectInfo("v/1", 1)), ObjectStoreContractTest.keysAndSizes(a.list("v/")));
            assertEquals(List.of(new ObjectInfo("tenant-a/v/1", 1)), ObjectStoreContractTest.keysAndSizes(whole.list("tenant-a/")));
            assertEquals("s3://strata-test/tenant-a", a.describe());
        }
    }

    @Test
    void objectAboveTheMultipartThresholdRoundTripsThroughAMultipartUpload() throws Exception {
        try (S3ObjectStore mp = new S3ObjectStore(server.config(BUCKET).keyPrefix("mp-" + VOLUMES.incrementAndGet())
                .multipart(5L << 20, 5L << 20).build())) {
            byte[] data = randomBytes(12 << 20, 7);
            mp.put("v/objects/0000000000000001", ByteBuffer.wrap(data));
            assertArrayEquals(data, mp.get("v/objects/0000000000000001"));
            ByteBuffer tail = ByteBuffer.allocate(1 << 20);
            assertEquals(1 << 20, mp.getRange("v/objects/0000000000000001", (11L << 20), tail));
            assertArrayEquals(java.util.Arrays.copyOfRange(data, 11 << 20, 12 << 20), tail.array());
            assertEquals(List.of(new ObjectInfo("v/objects/0000000000000001", 12 << 20)), ObjectStoreContractTest.keysAndSizes(mp.list("")));
            assertTrue(server.listMultipartUploads(BUCKET).isEmpty(), "no upload left open");
        }
    }

    @Test
    void multipartUploadThatFailsIsAbortedAndReportsTheKey() throws Exception {
        // A bucket that does not exist makes CreateMultipartUpload fail: nothing may be left behind.
        try (S3ObjectStore mp = new S3ObjectStore(server.config("no-such-bucket").multipart(5L << 20, 5L << 20)
                .maxRetries(0).build())) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class,
                    () -> mp.put("v/big", ByteBuffer.allocate(6 << 20)));
            assertFalse(e instanceof NoSuchObjectException, "a missing bucket is not a missing object");
            assertTrue(e.getMessage().contains("s3://no-such-bucket"), e.getMessage());
            assertTrue(e.getMessage().contains("v/big"), e.getMessage());
            assertTrue(e.getMessage().contains("HTTP 404 NoSuchBucket"), e.getMessage());
        }
    }

    @Test
    void listingMoreThanOnePageReturnsEveryKeyInOrder() throws Exception {
        // Pages of 10 keys: 25 keys need two continuation tokens, as 2500 keys would with S3's 1000.
        ((S3ObjectStore) store).listPageSize = 10;
        int n = 25;
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        try {
            List<java.util.concurrent.Future<?>> puts = new java.util.ArrayList<>();
            for (int i = 0; i < n; i++) {
                String key = String.format("v/objects/%016d", i);
                puts.add(pool.submit(() -> {
                    store.put(key, ByteBuffer.allocate(0));
                    return null;
                }));
            }
            for (var f : puts) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }
        List<ObjectInfo> listed = store.list("v/objects/");
        assertEquals(n, listed.size());
        assertEquals(1, store.stats().lists.sum(), "one list call, however many pages");
        assertEquals(3, store.stats().listPages.sum(), "pages of 10: three LIST requests, as S3 bills them");
        for (int i = 0; i < n; i++) {
            assertEquals(String.format("v/objects/%016d", i), listed.get(i).key());
        }

        // start-after seeks: the keys after the 19th cost one page, not three.
        List<ObjectInfo> after = store.listAfter("v/objects/", String.format("v/objects/%016d", 19));
        assertEquals(listed.subList(20, n), after);
        assertEquals(4, store.stats().listPages.sum(), "one more page");
        // Past a page boundary: the continuation token carries the position on.
        assertEquals(listed.subList(3, n), store.listAfter("v/objects/", String.format("v/objects/%016d", 2)));
        assertEquals(7, store.stats().listPages.sum(), "22 keys: three more pages");
    }

    @Test
    void wrongCredentialsFailWithoutRetryAndTheErrorNamesBucketKeyStatusAndCode() throws Exception {
        try (S3ObjectStore bad = new S3ObjectStore(server.config(BUCKET).keyPrefix("p")
                .credentials(S3ProxyServer.IDENTITY, "wrong-secret").build())) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> bad.get("v/objects/0000000000000001"));
            String m = e.getMessage();
            assertTrue(m.contains("s3://strata-test/p"), m);
            assertTrue(m.contains("v/objects/0000000000000001"), m);
            assertTrue(m.contains("HTTP 403"), m);
            assertTrue(m.contains("SignatureDoesNotMatch") || m.contains("AccessDenied") || m.contains("InvalidAccessKeyId"), m);
            assertEquals(0, bad.stats().retries.sum(), "403 is not retried");
        }
    }

    @Test
    void missingObjectIsNoSuchObjectAndNotRetried() throws Exception {
        assertThrows(NoSuchObjectException.class, () -> store.get("v/nothing"));
        assertEquals(0, store.stats().retries.sum());
    }

    @Test
    void conditionalCreateLosesAgainstAnObjectWrittenByAnotherClient() throws Exception {
        try (S3ObjectStore other = new S3ObjectStore(((S3ObjectStore) store).config())) {
            assertTrue(other.putIfAbsent("v/epoch/0000000001", buf("node-a")));
        }
        assertFalse(store.putIfAbsent("v/epoch/0000000001", buf("node-b")));
        assertEquals("node-a", new String(store.get("v/epoch/0000000001")));
    }
}
