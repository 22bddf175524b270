package dev.strata.engine.store;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Set;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.exception.AwsErrorDetails;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache.ApacheHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * An {@link ObjectStore} on any S3 API, through the AWS SDK for Java v2 and its Apache HTTP client.
 *
 * <p>Every request runs in this class's own retry loop (exponential backoff with full jitter, see
 * {@link Backoff}); the SDK's retries are switched off so the two do not multiply, and each retry is
 * counted in {@link ObjectStoreStats#retries}. Throttling (429, 503 SlowDown), 500/502/503/504,
 * RequestTimeout, 409 ConditionalRequestConflict, timeouts and I/O errors are retried; other 4xx are not.
 *
 * <p>Keys live under the configured key prefix; {@link #list} strips it again. Errors are
 * {@link ObjectStoreException}s whose message names {@code s3://bucket/prefix}, the key, the
 * operation, the HTTP status, the S3 error code and the number of attempts; 404 on an object is a
 * {@link NoSuchObjectException}.
 */
public final class S3ObjectStore implements ObjectStore {
    private static final System.Logger LOG = System.getLogger(S3ObjectStore.class.getName());

    /** S3 error codes that mean "try again later" whatever their HTTP status. */
    private static final Set<String> RETRYABLE_CODES = Set.of("SlowDown", "RequestTimeout", "InternalError",
            "ServiceUnavailable", "Throttling", "ThrottlingException", "RequestLimitExceeded",
            "TooManyRequestsException", "ConditionalRequestConflict", "OperationAborted");
    private static final Set<Integer> RETRYABLE_STATUSES = Set.of(429, 500, 502, 503, 504);

    private final S3StoreConfig config;
    private final S3Client s3;
    private final String bucket;
    private final String keyPrefix;
    private final String description;
    private final Backoff backoff;
    private final ObjectStoreStats stats = new ObjectStoreStats();
    /**
     * 64 KiB staging arrays for GETs into direct buffers (the HTTP client reads into arrays only):
     * small enough to stay in the CPU's cache between the socket's copy and ours, recycled because
     * readahead GETs run on short-lived virtual threads (no thread-locals) and make no garbage;
     * at most about {@link #CHUNKS_KEPT} are kept (the size check races, harmlessly).
     */
    private final java.util.concurrent.ConcurrentLinkedQueue<byte[]> chunks = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private static final int CHUNK = 64 << 10;
    private static final int CHUNKS_KEPT = 32;

    /** Keys per ListObjectsV2 page; S3's maximum. Lowered only by tests, to cross page boundaries cheaply. */
    volatile int listPageSize = 1000;

    /** Connects (lazily: no request is sent here) to the bucket of {@code config}. */
    public S3ObjectStore(S3StoreConfig config) {
        this.config = config;
        this.bucket = config.bucket();
        this.keyPrefix = config.keyPrefix();
        this.description = config.describe();
        this.backoff = new Backoff(config.retryBaseDelay(), config.retryMaxDelay());
        this.s3 = buildClient(config);
    }

    // ApacheHttpClient (HttpClient 4) is deprecated in SDK 2.56 in favour of apache5-client; it is the
    // client this project chose and verified with S3Proxy. Moving is a change of this builder only.
    @SuppressWarnings("deprecation")
    private static S3Client buildClient(S3StoreConfig config) {
        ApacheHttpClient.Builder http = ApacheHttpClient.builder()
                .connectionTimeout(config.connectTimeout())
                .socketTimeout(config.apiCallAttemptTimeout())
                .maxConnections(config.maxConnections());
        S3ClientBuilder builder = S3Client.builder()
                .httpClientBuilder(http)
                .region(Region.of(config.region()))
                .credentialsProvider(credentials(config))
                .forcePathStyle(config.pathStyle())
                // Flexible-checksum trailers (aws-chunked CRC32) are not understood by every S3 server;
                // only send or check them where the API requires them.
                .requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
                .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED)
                // Our own loop retries with jittered backoff and counts retries; SDK retries would multiply them.
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry())
                        .apiCallAttemptTimeout(config.apiCallAttemptTimeout()));
        if (config.endpoint() != null) {
            builder.endpointOverride(config.endpoint());
        }
        return builder.build();
    }

    private static AwsCredentialsProvider credentials(S3StoreConfig config) {
        if (config.accessKey() != null) {
            return StaticCredentialsProvider.create(AwsBasicCredentials.create(config.accessKey(), config.secretKey()));
        }
        if (config.credentialsFile() != null) {
            return new PropertiesFileCredentialsProvider(config.credentialsFile());
        }
        return DefaultCredentialsProvider.builder().build();
    }

    /** The configuration this store was opened with. */
    public S3StoreConfig config() {
        return config;
    }

    @Override
    public void put(String key, ByteBuffer data) throws IOException {
        ObjectKeys.checkKey(description, key);
        int size = data.remaining();
        if (size >= config.multipartThreshold()) {
            putMultipart(key, data);
        } else {
            ByteBuffer src = data.duplicate();
            execute("PutObject", key, () -> s3.putObject(b -> b.bucket(bucket).key(fullKey(key)).contentLength((long) size),
                    body(src)));
        }
        stats.puts.increment();
        stats.bytesPut.add(size);
    }

    /**
     * A single conditional PUT with {@code If-None-Match: *} whatever the size (S3 allows 5 GiB in one
     * PUT; conditional creates are for small control objects such as epoch fences).
     *
     * <p>If an earlier attempt of this call failed in a way that may have reached the server (timeout,
     * I/O error, 5xx) and a retry then gets 412, the 412 may be our own earlier write: the object is
     * read back and this call reports a win if it holds exactly our bytes. Writers that race for one
     * key must therefore write distinguishable content (e.g. their node id), which fences do anyway.
     */
    @Override
    public boolean putIfAbsent(String key, ByteBuffer data) throws IOException {
        ObjectKeys.checkKey(description, key);
        int size = data.remaining();
        ByteBuffer src = data.duplicate();
        int[] attempts = {0};
        boolean created = execute("PutObject(If-None-Match)", key, () -> {
            attempts[0]++;
            try {
                s3.putObject(b -> b.bucket(bucket).key(fullKey(key)).contentLength((long) size).ifNoneMatch("*"), body(src));
                return true;
            } catch (S3Exception e) {
                if (e.statusCode() == 412) {
                    return attempts[0] > 1 && holdsExactly(key, src);
                }
                throw e;
            }
        });
        stats.conditionalPuts.increment();
        if (created) {
            stats.bytesPut.add(size);
        }
        return created;
    }

    private boolean holdsExactly(String key, ByteBuffer expected) {
        byte[] existing = s3.getObjectAsBytes(b -> b.bucket(bucket).key(fullKey(key))).asByteArrayUnsafe();
        return ByteBuffer.wrap(existing).equals(expected.duplicate());
    }

    @Override
    public byte[] get(String key) throws IOException {
        ObjectKeys.checkKey(description, key);
        stats.gets.increment();
        byte[] bytes = execute("GetObject", key,
                () -> s3.getObjectAsBytes(b -> b.bucket(bucket).key(fullKey(key))).asByteArrayUnsafe());
        stats.bytesGot.add(bytes.length);
        return bytes;
    }

    @Override
    public int getRange(String key, long offset, ByteBuffer dst) throws IOException {
        ObjectKeys.checkKey(description, key);
        if (offset < 0) {
            throw new ObjectStoreException(description, key, "negative offset " + offset);
        }
        stats.rangedGets.increment();
        if (!dst.hasRemaining()) {
            // An empty Range is not expressible; a HEAD still answers "missing" and "past the end".
            long size = execute("HeadObject", key, () -> s3.headObject(b -> b.bucket(bucket).key(fullKey(key))).contentLength());
            return offset >= size ? -1 : 0;
        }
        int start = dst.position();
        long last = offset + dst.remaining() - 1;
        int n = execute("GetObject(Range)", key, () -> {
            dst.position(start); // a retry starts the read over
            try (ResponseInputStream<GetObjectResponse> in = s3.getObject(
                    b -> b.bucket(bucket).key(fullKey(key)).range("bytes=" + offset + "-" + last))) {
                if (in.response().contentRange() == null && offset > 0) {
                    in.abort();
                    throw new ObjectStoreException(description, key, "server ignored the Range header (no Content-Range in the reply)");
                }
                return readInto(in, dst);
            } catch (S3Exception e) {
                if (e.statusCode() == 416) {
                    return -1; // InvalidRange: offset at or past the end (also: any offset of an empty object)
                }
                throw e;
            }
        });
        if (n > 0) {
            stats.bytesGot.add(n);
        }
        return n;
    }

    /** Fills {@code dst} from {@code in} until it is full or the stream ends; returns the bytes read. */
    private int readInto(InputStream in, ByteBuffer dst) throws IOException {
        int total = 0;
        if (dst.hasArray()) {
            while (dst.hasRemaining()) {
                int r = in.read(dst.array(), dst.arrayOffset() + dst.position(), dst.remaining());
                if (r < 0) {
                    break;
                }
                dst.position(dst.position() + r);
                total += r;
            }
        } else {
            byte[] chunk = chunks.poll();
            if (chunk == null) {
                chunk = new byte[CHUNK];
            }
            try {
                while (dst.hasRemaining()) {
                    int r = in.read(chunk, 0, Math.min(chunk.length, dst.remaining()));
                    if (r < 0) {
                        break;
                    }
                    dst.put(chunk, 0, r);
                    total += r;
                }
            } finally {
                if (chunks.size() < CHUNKS_KEPT) {
                    chunks.offer(chunk);
                }
            }
        }
        return total;
    }

    @Override
    public List<ObjectInfo> list(String prefix) throws IOException {
        return listAfter(prefix, null);
    }

    /** S3's {@code start-after} (sent with the first page; the continuation token carries it on). */
    @Override
    public List<ObjectInfo> listAfter(String prefix, String startAfter) throws IOException {
        ObjectKeys.checkPrefix(description, prefix);
        stats.lists.increment();
        List<ObjectInfo> found = new ArrayList<>();
        String after = startAfter == null ? null : keyPrefix + startAfter;
        String token = null;
        do {
            String continuation = token;
            ListObjectsV2Response page = execute("ListObjectsV2", prefix,
                    () -> s3.listObjectsV2(b -> b.bucket(bucket).prefix(keyPrefix + prefix).maxKeys(listPageSize)
                            .startAfter(continuation == null ? after : null).continuationToken(continuation)));
            stats.listPages.increment();
            for (S3Object o : page.contents()) {
                String key = o.key().substring(keyPrefix.length());
                if (startAfter == null || key.compareTo(startAfter) > 0) { // a server that ignores start-after
                    found.add(new ObjectInfo(key, o.size(), o.lastModified()));
                }
            }
            token = Boolean.TRUE.equals(page.isTruncated()) ? page.nextContinuationToken() : null;
        } while (token != null);
        // S3 already lists in UTF-8 byte order; some S3 servers do not, and a sorted list sorts in linear time.
        found.sort(Comparator.comparing(ObjectInfo::key));
        return found;
    }

    @Override
    public void delete(String key) throws IOException {
        ObjectKeys.checkKey(description, key);
        stats.deletes.increment();
        try {
            execute("DeleteObject", key, () -> s3.deleteObject(b -> b.bucket(bucket).key(fullKey(key))));
        } catch (NoSuchObjectException e) {
            // S3 answers 204 for a missing key; some servers answer 404. Either way: nothing to delete.
        }
    }

    @Override
    public ObjectStoreStats stats() {
        return stats;
    }

    @Override
    public String describe() {
        return description;
    }

    @Override
    public void close() {
        s3.close();
    }

    @Override
    public String toString() {
        return "S3ObjectStore[" + description + "]";
    }

    // ---- multipart -------------------------------------------------------------------------------

    /** Parts are uploaded one after another and each is retried on its own; the upload is aborted on failure. */
    private void putMultipart(String key, ByteBuffer data) throws IOException {
        String full = fullKey(key);
        String uploadId = execute("CreateMultipartUpload", key,
                () -> s3.createMultipartUpload(b -> b.bucket(bucket).key(full)).uploadId());
        try {
            int size = data.remaining();
            int partSize = (int) Math.min(config.partSize(), Integer.MAX_VALUE);
            CompletedPart[] parts = new CompletedPart[(size + partSize - 1) / partSize];
            for (int i = 0; i < parts.length; i++) {
                int partNumber = i + 1;
                int from = i * partSize;
                int len = Math.min(partSize, size - from);
                ByteBuffer slice = data.slice(data.position() + from, len);
                String eTag = execute("UploadPart " + partNumber + "/" + parts.length, key,
                        () -> s3.uploadPart(b -> b.bucket(bucket).key(full).uploadId(uploadId).partNumber(partNumber)
                                .contentLength((long) len), body(slice)).eTag());
                parts[i] = CompletedPart.builder().partNumber(partNumber).eTag(eTag).build();
            }
            execute("CompleteMultipartUpload", key, () -> s3.completeMultipartUpload(b -> b.bucket(bucket).key(full)
                    .uploadId(uploadId).multipartUpload(m -> m.parts(Arrays.asList(parts)))));
        } catch (IOException | RuntimeException e) {
            abortQuietly(key, uploadId, e);
            throw e;
        }
    }

    private void abortQuietly(String key, String uploadId, Exception cause) {
        try {
            s3.abortMultipartUpload(b -> b.bucket(bucket).key(fullKey(key)).uploadId(uploadId));
        } catch (RuntimeException e) {
            // The upload's parts stay billable until a bucket lifecycle rule removes them: say so.
            LOG.log(System.Logger.Level.WARNING, () -> description + " key '" + key + "': abort of multipart upload "
                    + uploadId + " failed after " + cause + ": " + e);
            cause.addSuppressed(e);
        }
    }

    // ---- the retry loop and error translation ----------------------------------------------------

    @FunctionalInterface
    private interface Call<T> {
        T run() throws IOException;
    }

    private <T> T execute(String op, String key, Call<T> call) throws IOException {
        for (int attempt = 1; ; attempt++) {
            Exception sdkFailure;
            try {
                return call.run();
            } catch (ObjectStoreException e) {
                throw e;
            } catch (S3Exception e) {
                if (!isRetryable(e) || attempt > config.maxRetries()) {
                    throw translate(op, key, e, attempt);
                }
                sdkFailure = e;
            } catch (SdkClientException e) {
                if (!isRetryable(e) || attempt > config.maxRetries()) {
                    throw new ObjectStoreException(description, key, op + " failed: " + e.getMessage()
                            + " (no HTTP response; after " + attempt + " attempt(s))", e);
                }
                sdkFailure = e;
            } catch (IOException e) {
                // Reading a response body failed mid-stream: the request is safe to repeat.
                if (attempt > config.maxRetries()) {
                    throw new ObjectStoreException(description, key, op + " failed reading the response: " + e
                            + " (after " + attempt + " attempt(s))", e);
                }
                sdkFailure = e;
            }
            sleepBeforeRetry(op, key, attempt, sdkFailure);
        }
    }

    private void sleepBeforeRetry(String op, String key, int attempt, Exception failure) throws InterruptedIOException {
        stats.retries.increment();
        long delayNanos = backoff.delay(attempt - 1).toNanos();
        LOG.log(System.Logger.Level.DEBUG, () -> description + " key '" + key + "': " + op + " attempt " + attempt
                + " failed (" + failure.getMessage() + "), retrying in " + delayNanos / 1_000_000 + " ms");
        try {
            Thread.sleep(delayNanos / 1_000_000, (int) (delayNanos % 1_000_000));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            InterruptedIOException ie = new InterruptedIOException(description + " key '" + key + "': " + op
                    + " interrupted while waiting to retry");
            ie.initCause(failure);
            throw ie;
        }
    }

    private static boolean isRetryable(S3Exception e) {
        AwsErrorDetails d = e.awsErrorDetails();
        String code = d == null ? null : d.errorCode();
        return RETRYABLE_STATUSES.contains(e.statusCode()) || (code != null && RETRYABLE_CODES.contains(code));
    }

    /** Timeouts and I/O failures (connection refused or reset) are transient; bad configuration is not. */
    private static boolean isRetryable(SdkClientException e) {
        if (e instanceof ApiCallAttemptTimeoutException || e.retryable()) {
            return true;
        }
        for (Throwable t = e.getCause(); t != null; t = t.getCause()) {
            if (t instanceof IOException) {
                return true;
            }
        }
        return false;
    }

    private ObjectStoreException translate(String op, String key, S3Exception e, int attempts) {
        AwsErrorDetails d = e.awsErrorDetails();
        String code = d == null || d.errorCode() == null ? "-" : d.errorCode();
        if (e.statusCode() == 404 && !"NoSuchBucket".equals(code) && !"NoSuchUpload".equals(code)) {
            NoSuchObjectException missing = new NoSuchObjectException(description, key);
            missing.addSuppressed(e); // its constructor sets no cause; keep the HTTP details anyway
            return missing;
        }
        String message = d == null || d.errorMessage() == null ? "" : " (" + d.errorMessage() + ")";
        return new ObjectStoreException(description, key, op + " failed: HTTP " + e.statusCode() + " " + code
                + message + ", request id " + e.requestId() + ", after " + attempts + " attempt(s)", e);
    }

    private String fullKey(String key) {
        return keyPrefix + key;
    }

    private static RequestBody body(ByteBuffer src) {
        // A fresh stream over the same memory for each attempt (and for signing): no copy of the data.
        return RequestBody.fromContentProvider(() -> new ByteBufferInputStream(src), src.remaining(),
                "application/octet-stream");
    }
}
