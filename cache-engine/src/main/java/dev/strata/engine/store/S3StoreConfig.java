package dev.strata.engine.store;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of an {@link S3ObjectStore}. Build one with {@link #builder(String)}; every setting but the
 * bucket has a default. {@link #toString()} never prints the secret key.
 *
 * @param endpoint           S3 endpoint, e.g. {@code http://127.0.0.1:9000}; null for AWS's own endpoint of the region
 * @param region             signing region, default {@code us-east-1}
 * @param bucket             the bucket (required)
 * @param keyPrefix          prefix under which every key lives in the bucket, normalized to "" or "p/"
 * @param pathStyle          path-style addressing ({@code endpoint/bucket/key}); most non-AWS servers need it
 * @param accessKey          static access key, or null
 * @param secretKey          static secret key, or null (set both or neither)
 * @param credentialsFile    a properties file with {@code accessKey=} and {@code secretKey=} lines (e.g. a mounted
 *                           Secret), re-read when it changes; or null. Without static keys or a file the SDK's
 *                           default provider chain (environment, profile, web identity, instance role) is used
 * @param connectTimeout     TCP connect timeout
 * @param apiCallAttemptTimeout time limit of one HTTP attempt, body included; an attempt over it is retried
 * @param maxRetries         retries after the first attempt of a request for throttling, 5xx and I/O errors
 * @param retryBaseDelay     backoff base: attempt n sleeps a uniformly random time in [0, min(cap, base·2ⁿ)]
 * @param retryMaxDelay      backoff cap
 * @param multipartThreshold objects of at least this many bytes are uploaded as multipart uploads
 * @param partSize           part size of multipart uploads (S3 requires ≥ 5 MiB but for the last part)
 * @param maxConnections     HTTP connection pool size
 */
public record S3StoreConfig(
        URI endpoint,
        String region,
        String bucket,
        String keyPrefix,
        boolean pathStyle,
        String accessKey,
        String secretKey,
        Path credentialsFile,
        Duration connectTimeout,
        Duration apiCallAttemptTimeout,
        int maxRetries,
        Duration retryBaseDelay,
        Duration retryMaxDelay,
        long multipartThreshold,
        long partSize,
        int maxConnections) {

    public static final String DEFAULT_REGION = "us-east-1";
    public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_API_CALL_ATTEMPT_TIMEOUT = Duration.ofSeconds(30);
    public static final int DEFAULT_MAX_RETRIES = 8;
    public static final Duration DEFAULT_RETRY_BASE_DELAY = Duration.ofMillis(50);
    public static final Duration DEFAULT_RETRY_MAX_DELAY = Duration.ofSeconds(5);
    public static final long DEFAULT_MULTIPART_THRESHOLD = 16L << 20;
    public static final long DEFAULT_PART_SIZE = 8L << 20;
    public static final int DEFAULT_MAX_CONNECTIONS = 64;
    /** S3 rejects parts below this size (except the last). */
    public static final long MIN_PART_SIZE = 5L << 20;
    /** S3's limit of a single PUT. */
    public static final long MAX_SINGLE_PUT = 5L << 30;

    public S3StoreConfig {
        if (bucket == null || bucket.isBlank()) {
            throw new IllegalArgumentException("S3 store: bucket is required");
        }
        region = region == null || region.isBlank() ? DEFAULT_REGION : region;
        keyPrefix = normalizePrefix(keyPrefix);
        if ((accessKey == null) != (secretKey == null)) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": set both accessKey and secretKey, or neither");
        }
        if (accessKey != null && credentialsFile != null) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": set static keys or credentialsFile, not both");
        }
        connectTimeout = positive("connectTimeout", connectTimeout, DEFAULT_CONNECT_TIMEOUT, bucket);
        apiCallAttemptTimeout = positive("apiCallAttemptTimeout", apiCallAttemptTimeout, DEFAULT_API_CALL_ATTEMPT_TIMEOUT, bucket);
        retryBaseDelay = positive("retryBaseDelay", retryBaseDelay, DEFAULT_RETRY_BASE_DELAY, bucket);
        retryMaxDelay = positive("retryMaxDelay", retryMaxDelay, DEFAULT_RETRY_MAX_DELAY, bucket);
        if (maxRetries < 0) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": maxRetries must be >= 0, got " + maxRetries);
        }
        if (partSize < MIN_PART_SIZE || partSize > MAX_SINGLE_PUT) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": partSize must be in [5 MiB, 5 GiB], got " + partSize);
        }
        if (multipartThreshold < 1 || multipartThreshold > MAX_SINGLE_PUT) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": multipartThreshold must be in [1, 5 GiB], got " + multipartThreshold);
        }
        if (maxConnections < 1) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": maxConnections must be >= 1, got " + maxConnections);
        }
    }

    /** A builder with every default set; only the bucket is required. */
    public static Builder builder(String bucket) {
        return new Builder(bucket);
    }

    /** A builder starting from this configuration. */
    public Builder toBuilder() {
        return new Builder(bucket).endpoint(endpoint).region(region).keyPrefix(keyPrefix).pathStyle(pathStyle)
                .credentials(accessKey, secretKey).credentialsFile(credentialsFile).connectTimeout(connectTimeout)
                .apiCallAttemptTimeout(apiCallAttemptTimeout).maxRetries(maxRetries)
                .retryDelays(retryBaseDelay, retryMaxDelay).multipart(multipartThreshold, partSize)
                .maxConnections(maxConnections);
    }

    /** {@code s3://bucket} or {@code s3://bucket/prefix}: how logs and errors name this store. */
    public String describe() {
        return keyPrefix.isEmpty() ? "s3://" + bucket : "s3://" + bucket + "/" + keyPrefix.substring(0, keyPrefix.length() - 1);
    }

    @Override
    public String toString() {
        return "S3StoreConfig[endpoint=" + endpoint + ", region=" + region + ", bucket=" + bucket
                + ", keyPrefix=" + keyPrefix + ", pathStyle=" + pathStyle
                + ", accessKey=" + accessKey + ", secretKey=" + (secretKey == null ? "null" : "****")
                + ", credentialsFile=" + credentialsFile + ", connectTimeout=" + connectTimeout
                + ", apiCallAttemptTimeout=" + apiCallAttemptTimeout + ", maxRetries=" + maxRetries
                + ", retryBaseDelay=" + retryBaseDelay + ", retryMaxDelay=" + retryMaxDelay
                + ", multipartThreshold=" + multipartThreshold + ", partSize=" + partSize
                + ", maxConnections=" + maxConnections + "]";
    }

    private static String normalizePrefix(String prefix) {
        if (prefix == null) {
            return "";
        }
        String p = prefix;
        while (p.startsWith("/")) {
            p = p.substring(1);
        }
        while (p.endsWith("/")) {
            p = p.substring(0, p.length() - 1);
        }
        return p.isEmpty() ? "" : p + "/";
    }

    private static Duration positive(String name, Duration value, Duration dflt, String bucket) {
        if (value == null) {
            return dflt;
        }
        if (value.isNegative() || value.isZero()) {
            throw new IllegalArgumentException("S3 store s3://" + bucket + ": " + name + " must be positive, got " + value);
        }
        return value;
    }

    /** Mutable builder of {@link S3StoreConfig}. */
    public static final class Builder {
        private URI endpoint;
        private String region = DEFAULT_REGION;
        private final String bucket;
        private String keyPrefix = "";
        private boolean pathStyle;
        private String accessKey;
        private String secretKey;
        private Path credentialsFile;
        private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
        private Duration apiCallAttemptTimeout = DEFAULT_API_CALL_ATTEMPT_TIMEOUT;
        private int maxRetries = DEFAULT_MAX_RETRIES;
        private Duration retryBaseDelay = DEFAULT_RETRY_BASE_DELAY;
        private Duration retryMaxDelay = DEFAULT_RETRY_MAX_DELAY;
        private long multipartThreshold = DEFAULT_MULTIPART_THRESHOLD;
        private long partSize = DEFAULT_PART_SIZE;
        private int maxConnections = DEFAULT_MAX_CONNECTIONS;

        private Builder(String bucket) {
            this.bucket = Objects.requireNonNull(bucket, "bucket");
        }

        public Builder endpoint(URI endpoint) { this.endpoint = endpoint; return this; }
        public Builder region(String region) { this.region = region; return this; }
        public Builder keyPrefix(String keyPrefix) { this.keyPrefix = keyPrefix; return this; }
        public Builder pathStyle(boolean pathStyle) { this.pathStyle = pathStyle; return this; }
        public Builder credentials(String accessKey, String secretKey) { this.accessKey = accessKey; this.secretKey = secretKey; return this; }
        public Builder credentialsFile(Path credentialsFile) { this.credentialsFile = credentialsFile; return this; }
        public Builder connectTimeout(Duration connectTimeout) { this.connectTimeout = connectTimeout; return this; }
        public Builder apiCallAttemptTimeout(Duration timeout) { this.apiCallAttemptTimeout = timeout; return this; }
        public Builder maxRetries(int maxRetries) { this.maxRetries = maxRetries; return this; }
        public Builder retryDelays(Duration base, Duration max) { this.retryBaseDelay = base; this.retryMaxDelay = max; return this; }
        public Builder multipart(long threshold, long partSize) { this.multipartThreshold = threshold; this.partSize = partSize; return this; }
        public Builder maxConnections(int maxConnections) { this.maxConnections = maxConnections; return this; }

        public S3StoreConfig build() {
            return new S3StoreConfig(endpoint, region, bucket, keyPrefix, pathStyle, accessKey, secretKey,
                    credentialsFile, connectTimeout, apiCallAttemptTimeout, maxRetries, retryBaseDelay, retryMaxDelay,
                    multipartThreshold, partSize, maxConnections);
        }
    }
}
