package dev.strata.engine.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Retries against real sockets: a fault-injecting proxy in front of S3Proxy, and a port nobody listens on. */
class S3ObjectStoreRetryTest {
    private static final String BUCKET = "strata-retry";
    private static final AtomicInteger PREFIXES = new AtomicInteger();
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

    private static S3ObjectStore storeVia(URI endpoint, int maxRetries) {
        return new S3ObjectStore(server.config(BUCKET).endpoint(endpoint).keyPrefix("p" + PREFIXES.incrementAndGet())
                .maxRetries(maxRetries).retryDelays(Duration.ofMillis(1), Duration.ofMillis(20)).build());
    }

    @ParameterizedTest(name = "HTTP {0} {1}")
    @CsvSource({"503, SlowDown", "500, InternalError", "502, BadGateway", "429, TooManyRequests", "400, RequestTimeout"})
    void transientErrorsAreRetriedAndCounted(int status, String code) throws Exception {
        try (FaultInjectingProxy proxy = FaultInjectingProxy.failing(server.port(), 3, status, code);
             S3ObjectStore store = storeVia(proxy.endpoint(), 8)) {
            store.put("v/k", ByteBuffer.wrap("payload".getBytes(StandardCharsets.UTF_8)));
            assertEquals(3, proxy.faultsInjected());
            assertEquals(3, store.stats().retries.sum());
            assertArrayEquals("payload".getBytes(StandardCharsets.UTF_8), store.get("v/k"));
            assertEquals(1, store.stats().puts.sum(), "a retried put is still one put");
        }
    }

    @Test
    void conditionalRequestConflictIsRetriedAndTheCreateStillWinsOnce() throws Exception {
        try (FaultInjectingProxy proxy = FaultInjectingProxy.failing(server.port(), 2, 409, "ConditionalRequestConflict");
             S3ObjectStore store = storeVia(proxy.endpoint(), 8)) {
            assertTrue(store.putIfAbsent("v/epoch", ByteBuffer.wrap(new byte[] {1})));
            assertEquals(false, store.putIfAbsent("v/epoch", ByteBuffer.wrap(new byte[] {2})));
            assertEquals(2, store.stats().retries.sum());
        }
    }

    @Test
    void givingUpReportsStatusCodeAttemptsBucketAndKey() throws Exception {
        try (FaultInjectingProxy proxy = FaultInjectingProxy.failing(server.port(), 100, 503, "SlowDown");
             S3ObjectStore store = storeVia(proxy.endpoint(), 2)) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.get("v/objects/0000000000000007"));
            String m = e.getMessage();
            assertTrue(m.contains(store.describe()) && m.startsWith("s3://strata-retry/p"), m);
            assertTrue(m.contains("v/objects/0000000000000007"), m);
            assertTrue(m.contains("HTTP 503 SlowDown"), m);
            assertTrue(m.contains("after 3 attempt(s)"), m);
            assertEquals(2, store.stats().retries.sum());
            assertEquals(3, proxy.faultsInjected(), "no hidden SDK retries: exactly 1 + maxRetries requests");
        }
    }

    @Test
    void clientErrorsAreNotRetried() throws Exception {
        try (FaultInjectingProxy proxy = FaultInjectingProxy.failing(server.port(), 100, 403, "AccessDenied");
             S3ObjectStore store = storeVia(proxy.endpoint(), 8)) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.list("v/"));
            assertTrue(e.getMessage().contains("HTTP 403 AccessDenied"), e.getMessage());
            assertEquals(1, proxy.faultsInjected());
            assertEquals(0, store.stats().retries.sum());
        }
    }

    @Test
    void refusedConnectionsAreRetriedThenReported() throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // closed again: nothing listens there now
        }
        try (S3ObjectStore store = storeVia(URI.create("http://127.0.0.1:" + deadPort), 2)) {
            ObjectStoreException e = assertThrows(ObjectStoreException.class, () -> store.put("v/k", ByteBuffer.allocate(1)));
            assertTrue(e.getMessage().contains("v/k") && e.getMessage().contains("s3://strata-retry/p"), e.getMessage());
            assertTrue(e.getMessage().contains("no HTTP response"), e.getMessage());
            assertEquals(2, store.stats().retries.sum());
        }
    }

    @Test
    void conditionalCreateWhoseResponseWasLostStillReportsTheWin() throws Exception {
        // The first PUT reaches the server and creates the object; its response is lost. The retry
        // gets 412, reads the object back, finds its own bytes and reports the create as won.
        try (FaultInjectingProxy proxy = FaultInjectingProxy.droppingResponses(server.port(), 1);
             S3ObjectStore store = storeVia(proxy.endpoint(), 4)) {
            assertTrue(store.putIfAbsent("v/epoch", ByteBuffer.wrap("node-a".getBytes(StandardCharsets.UTF_8))));
            assertEquals(1, proxy.faultsInjected());
            assertEquals(1, store.stats().retries.sum());
            assertEquals(false, store.putIfAbsent("v/epoch", ByteBuffer.wrap("node-b".getBytes(StandardCharsets.UTF_8))));
        }
    }
}
