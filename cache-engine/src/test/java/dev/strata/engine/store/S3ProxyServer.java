package dev.strata.engine.store;

import java.net.URI;
import java.nio.file.Path;
import java.util.Properties;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;

/**
 * A real S3 server for tests: S3Proxy embedded in this JVM, listening on 127.0.0.1 on a free port,
 * with AWS v2/v4 signature checking. Reused by other modules' tests through cache-engine's test-jar.
 *
 * <pre>{@code
 * try (S3ProxyServer s3 = S3ProxyServer.start()) {
 *     s3.createBucket("b");
 *     try (ObjectStore store = new S3ObjectStore(s3.config("b").keyPrefix("vol1").build())) { ... }
 * }
 * }</pre>
 */
public final class S3ProxyServer implements AutoCloseable {
    public static final String IDENTITY = "strata-test-access";
    public static final String CREDENTIAL = "strata-test-secret";

    private final S3Proxy proxy;
    private final BlobStore blobStore;
    private final URI endpoint;

    private S3ProxyServer(S3Proxy proxy, BlobStore blobStore, URI endpoint) {
        this.proxy = proxy;
        this.blobStore = blobStore;
        this.endpoint = endpoint;
    }

    /** Starts S3Proxy on an in-memory ("transient") backend. */
    public static S3ProxyServer start() throws Exception {
        return start(BlobStores.create("transient", new Properties()));
    }

    /** Starts S3Proxy on its filesystem backend under {@code dir} (objects survive a restart on the same dir). */
    public static S3ProxyServer startFilesystem(Path dir) throws Exception {
        Properties props = new Properties();
        props.setProperty("jclouds.filesystem.basedir", dir.toAbsolutePath().toString());
        return start(BlobStores.create("filesystem", props));
    }

    private static S3ProxyServer start(BlobStore blobStore) throws Exception {
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(blobStore)
                .endpoint(URI.create("http://127.0.0.1:0")) // port 0: the kernel picks a free port, no race
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, IDENTITY, CREDENTIAL)
                .build();
        proxy.start();
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                proxy.stop();
                throw new IllegalStateException("S3Proxy did not start within 10 s, state " + proxy.getState());
            }
            Thread.sleep(5);
        }
        return new S3ProxyServer(proxy, blobStore, URI.create("http://127.0.0.1:" + proxy.getPort()));
    }

    /** {@code http://127.0.0.1:PORT}. */
    public URI endpoint() {
        return endpoint;
    }

    public int port() {
        return endpoint.getPort();
    }

    /** Creates {@code bucket} (no error if it exists). */
    public void createBucket(String bucket) {
        if (!blobStore.containerExists(bucket)) {
            blobStore.createContainer(bucket);
        }
    }

    /** Multipart uploads still open in {@code bucket}: a test can prove none were left behind. */
    public java.util.List<software.amazon.awssdk.services.s3.model.MultipartUpload> listMultipartUploads(String bucket) {
        return blobStore.listMultipartUploads(bucket);
    }

    /** A config builder for {@code bucket} on this server: endpoint, path style and the server's credentials set. */
    public S3StoreConfig.Builder config(String bucket) {
        return config(endpoint, bucket);
    }

    /** The same for a server of this kind running elsewhere (another process: bench/S3ProxyMain) at {@code endpoint}. */
    public static S3StoreConfig.Builder config(URI endpoint, String bucket) {
        return S3StoreConfig.builder(bucket)
                .endpoint(endpoint)
                .pathStyle(true)
                .credentials(IDENTITY, CREDENTIAL);
    }

    @Override
    public void close() throws Exception {
        proxy.stop();
    }
}
