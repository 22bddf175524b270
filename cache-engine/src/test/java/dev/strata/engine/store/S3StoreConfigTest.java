package dev.strata.engine.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class S3StoreConfigTest {
    @TempDir
    Path dir;

    @Test
    void defaultsAreTheDocumentedOnes() {
        S3StoreConfig c = S3StoreConfig.builder("b").build();
        assertEquals("us-east-1", c.region());
        assertEquals("", c.keyPrefix());
        assertEquals(8, c.maxRetries());
        assertEquals(Duration.ofMillis(50), c.retryBaseDelay());
        assertEquals(Duration.ofSeconds(5), c.retryMaxDelay());
        assertEquals(16L << 20, c.multipartThreshold());
        assertEquals(8L << 20, c.partSize());
        assertEquals("s3://b", c.describe());
    }

    @Test
    void keyPrefixIsNormalizedToEndInOneSlash() {
        assertEquals("a/b/", S3StoreConfig.builder("b").keyPrefix("/a/b//").build().keyPrefix());
        assertEquals("s3://b/a/b", S3StoreConfig.builder("b").keyPrefix("a/b").build().describe());
    }

    @Test
    void toStringNeverShowsTheSecret() {
        S3StoreConfig c = S3StoreConfig.builder("b").credentials("AKIAEXAMPLE", "very-secret-value").build();
        assertFalse(c.toString().contains("very-secret-value"), c.toString());
        assertTrue(c.toString().contains("AKIAEXAMPLE"), c.toString());
        assertFalse(c.toBuilder().build().toString().contains("very-secret-value"));
    }

    @Test
    void inconsistentSettingsAreRejectedNamingTheBucket() {
        var e = assertThrows(IllegalArgumentException.class, () -> S3StoreConfig.builder("bkt").credentials("a", null).build());
        assertTrue(e.getMessage().contains("s3://bkt"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> S3StoreConfig.builder("bkt").multipart(16L << 20, 1 << 20).build());
        assertThrows(IllegalArgumentException.class, () -> S3StoreConfig.builder("bkt").maxRetries(-1).build());
        assertThrows(IllegalArgumentException.class, () -> S3StoreConfig.builder(" ").build());
        assertThrows(IllegalArgumentException.class,
                () -> S3StoreConfig.builder("bkt").credentials("a", "b").credentialsFile(dir.resolve("f")).build());
    }

    @Test
    void credentialsFileAuthenticatesAgainstARealServer() throws Exception {
        Path file = dir.resolve("s3.properties");
        Files.writeString(file, "# mounted Secret\naccessKey=" + S3ProxyServer.IDENTITY + "\nsecretKey=" + S3ProxyServer.CREDENTIAL + "\n");
        try (S3ProxyServer server = S3ProxyServer.start()) {
            server.createBucket("creds");
            S3StoreConfig config = server.config("creds").credentials(null, null).credentialsFile(file).build();
            try (S3ObjectStore store = new S3ObjectStore(config)) {
                store.put("k", ByteBuffer.wrap(new byte[] {7}));
                assertArrayEquals(new byte[] {7}, store.get("k"));
            }
        }
    }

    @Test
    void credentialsFileWithoutSecretFailsNamingFileButNoSecret() throws Exception {
        Path file = dir.resolve("bad.properties");
        Files.writeString(file, "accessKey=abc\n");
        var e = assertThrows(UncheckedIOException.class, () -> new PropertiesFileCredentialsProvider(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("secretKey"), e.getMessage());
    }

    @Test
    void backoffStaysWithinTheExponentialCeilingAndTheCap() {
        Backoff b = new Backoff(Duration.ofMillis(50), Duration.ofSeconds(5));
        for (int i = 0; i < 1000; i++) {
            assertTrue(b.delay(0).toMillis() <= 50);
            assertTrue(b.delay(3).toMillis() <= 400);
            assertTrue(b.delay(20).toMillis() <= 5000);
            assertTrue(b.delay(200).toMillis() <= 5000);
            assertFalse(b.delay(5).isNegative());
        }
    }
}
