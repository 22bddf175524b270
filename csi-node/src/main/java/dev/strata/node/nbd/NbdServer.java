package dev.strata.node.nbd;

import java.io.IOException;
import java.lang.System.Logger.Level;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.net.URI;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An NBD server: listeners (a Unix-domain socket and/or TCP) and an export table.
 *
 * <pre>{@code
 * NbdServer server = NbdServer.builder()
 *         .export(new NbdExport("vol1", "my volume", volume))
 *         .unixSocket(Path.of("/run/strata/vol1.sock"))
 *         .tcp("127.0.0.1", 0)
 *         .build();
 * server.start();
 * server.endpoints();   // [nbd+unix:///vol1?socket=/run/strata/vol1.sock, nbd://127.0.0.1:40123/vol1]
 * server.close();       // stop accepting, let in-flight requests reply, close connections
 * }</pre>
 *
 * <p>Threads: one virtual acceptor thread per listener; one virtual thread per connection that
 * runs the handshake and then reads requests ({@link NbdConnection}); one virtual thread per
 * request. Every connection to an export shares its {@link dev.strata.engine.volume.Volume};
 * the server never closes volumes, their owner does, after {@link #close()}.
 */
public final class NbdServer implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(NbdServer.class.getName());
    private static final Duration CLOSE_GRACE = Duration.ofSeconds(10);

    private final NbdExports exports;
    private final Path unixPath;
    private final String tcpHost;
    private final int tcpPort;
    private final int maxInFlight;
    private final int maxInFlightBytes;
    private final Duration handshakeTimeout;
    private final BufferPool pool;

    private final Object lifecycle = new Object();
    /** Guarded by {@link #lifecycle}. */
    private boolean started;
    private volatile boolean closing;
    private ServerSocketChannel unixListener;
    private ServerSocketChannel tcpListener;
    private final List<Thread> acceptors = new ArrayList<>();
    /** Live connections and the thread serving each; added by acceptors, removed by the connection thread. */
    private final Map<SocketChannel, Thread> connections = new ConcurrentHashMap<>();
    private final AtomicLong connectionIds = new AtomicLong();

    private NbdServer(Builder b) {
        this.exports = new NbdExports(b.exports);
        this.unixPath = b.unixPath;
        this.tcpHost = b.tcpHost;
        this.tcpPort = b.tcpPort;
        this.maxInFlight = b.maxInFlight;
        this.maxInFlightBytes = b.maxInFlightBytes;
        this.handshakeTimeout = b.handshakeTimeout;
        this.pool = new BufferPool(b.pooledBytes);
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Binds the listeners and starts accepting. */
    public void start() throws IOException {
        synchronized (lifecycle) {
            if (started) {
                throw new IllegalStateException("already started");
            }
            started = true;
            try {
                if (unixPath != null) {
                    unixListener = bindUnix(unixPath);
                    acceptors.add(Thread.ofVirtual().name("nbd-accept unix:" + unixPath)
                            .start(() -> acceptLoop(unixListener, true)));
                }
                if (tcpHost != null) {
                    tcpListener = ServerSocketChannel.open();
                    tcpListener.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                    tcpListener.bind(new InetSocketAddress(tcpHost, tcpPort), 128);
                    acceptors.add(Thread.ofVirtual().name("nbd-accept tcp:" + tcpListener.getLocalAddress())
                            .start(() -> acceptLoop(tcpListener, false)));
                }
            } catch (IOException | RuntimeException e) {
                close();
                throw e;
            }
            LOG.log(Level.INFO, "NBD server listening: {0}", endpoints());
        }
    }

    /** URIs a client can use, one per export and listener. */
    public List<URI> endpoints() {
        List<URI> uris = new ArrayList<>();
        for (NbdExport e : exports.all()) {
            if (unixListener != null) {
                uris.add(URI.create("nbd+unix:///" + encode(e.name()) + "?socket=" + encode(unixPath.toString())));
            }
            if (tcpListener != null) {
                InetSocketAddress a = tcpAddress().orElseThrow();
                String host = a.getAddress().getHostAddress();
                if (host.contains(":")) {
                    host = "[" + host.replaceFirst("%.*$", "") + "]";
                }
                uris.add(URI.create("nbd://" + host + ":" + a.getPort() + "/" + encode(e.name())));
            }
        }
        return uris;
    }

    /** The bound TCP address (with the real port when 0 was asked for). */
    public Optional<InetSocketAddress> tcpAddress() {
        try {
            return tcpListener == null ? Optional.empty()
                    : Optional.of((InetSocketAddress) tcpListener.getLocalAddress());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    public Optional<Path> unixSocket() {
        return Optional.ofNullable(unixListener == null ? null : unixPath);
    }

    /** Number of open client connections (handshake or transmission). */
    public int connectionCount() {
        return connections.size();
    }

    /**
     * Stops accepting, ends every connection gracefully (the reading side is shut so in-flight
     * requests still reply, new requests get ESHUTDOWN), waits up to 10 s, then closes what is
     * left and removes the Unix socket file. Idempotent.
     */
    @Override
    public void close() {
        synchronized (lifecycle) {
            if (closing) {
                return;
            }
            closing = true;
        }
        closeQuietly(unixListener);
        closeQuietly(tcpListener);
        for (Thread t : acceptors) {
            join(t, Duration.ofSeconds(2));
        }
        for (SocketChannel ch : connections.keySet()) {
            try {
                ch.shutdownInput();
            } catch (IOException ignored) {
                // already closed
            }
        }
        long deadline = System.nanoTime() + CLOSE_GRACE.toNanos();
        for (Thread t : List.copyOf(connections.values())) {
            join(t, Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        }
        for (SocketChannel ch : connections.keySet()) {
            LOG.log(Level.WARNING, "{0}: still busy after {1}, closing hard", describe(ch), CLOSE_GRACE);
            closeQuietly(ch);
        }
        if (unixListener != null) {
            try {
                Files.deleteIfExists(unixPath);
            } catch (IOException e) {
                LOG.log(Level.WARNING, "cannot remove socket {0}: {1}", unixPath, e.toString());
            }
        }
        LOG.log(Level.INFO, "NBD server closed");
    }

    private static ServerSocketChannel bindUnix(Path path) throws IOException {
        UnixDomainSocketAddress address = UnixDomainSocketAddress.of(path);
        if (Files.exists(path)) {
            // A socket file left by a crashed server is removed; a live one is not stolen.
            try (SocketChannel probe = SocketChannel.open(address)) {
                throw new IOException("NBD socket " + path + " is in use by another server");
            } catch (IOException refused) {
                if (refused.getMessage() != null && refused.getMessage().contains("in use by another server")) {
                    throw refused;
                }
                Files.delete(path);
            }
        }
        ServerSocketChannel ssc = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ssc.bind(address, 128);
            // Only the owner may connect: anyone reaching the socket can read and write the volume.
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException | RuntimeException e) {
            ssc.close();
            throw e;
        }
        return ssc;
    }

    private void acceptLoop(ServerSocketChannel listener, boolean unix) {
        while (!closing) {
            SocketChannel ch;
            try {
                ch = listener.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (closing) {
                    return;
                }
                LOG.log(Level.WARNING, "accept failed: {0}", e.toString());
                sleepQuietly(Duration.ofMillis(50)); // e.g. out of file descriptors: do not spin
                continue;
            }
            long id = connectionIds.incrementAndGet();
            String client = unix ? "unix:" + unixPath + "#" + id : describe(ch);
            Thread t = Thread.ofVirtual().name("nbd-conn " + client).unstarted(() -> serve(ch, client, unix));
            connections.put(ch, t);
            if (closing) { // raced with close(): it may have missed this channel
                connections.remove(ch);
                closeQuietly(ch);
                return;
            }
            t.start();
        }
    }

    /** Runs on the connection's own thread from accept to close. */
    private void serve(SocketChannel ch, String client, boolean unix) {
        LOG.log(Level.DEBUG, "{0}: connected", client);
        Thread watchdog = null;
        try {
            if (!unix) {
                ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
            }
            // A client that never finishes the handshake must not hold the connection forever.
            watchdog = Thread.ofVirtual().start(() -> {
                try {
                    Thread.sleep(handshakeTimeout);
                    LOG.log(Level.WARNING, "{0}: handshake not finished within {1}, closing", client, handshakeTimeout);
                    closeQuietly(ch);
                } catch (InterruptedException done) {
                    // handshake finished in time
                }
            });
            NbdSession session = new NbdHandshake(ch, ch, exports, client, () -> closing).run();
            watchdog.interrupt();
            if (session == null) {
                return;
            }
            LOG.log(Level.INFO, "{0}: serving export {1} (size {2}, read-only {3}, structured replies {4}, "
                            + "base:allocation {5})", client, session.export().name(), Long.toString(session.export().volume().size()),
                    session.export().volume().isReadOnly(), session.structuredReplies(), session.baseAllocation());
            new NbdConnection(ch, session, pool, client, maxInFlight, maxInFlightBytes, () -> closing).serve();
        } catch (NbdProtocolException e) {
            LOG.log(Level.WARNING, "{0}: protocol error, closing the connection: {1}", client, e.getMessage());
        } catch (IOException e) {
            if (!closing) {
                LOG.log(Level.INFO, "{0}: connection failed: {1}", client, e.toString());
            }
        } catch (RuntimeException | Error e) {
            LOG.log(Level.ERROR, client + ": unexpected failure, closing the connection", e);
        } finally {
            if (watchdog != null) {
                watchdog.interrupt();
            }
            closeQuietly(ch);
            connections.remove(ch);
            LOG.log(Level.DEBUG, "{0}: disconnected", client);
        }
    }

    private static String describe(SocketChannel ch) {
        try {
            return "tcp:" + ch.getRemoteAddress();
        } catch (IOException e) {
            return "tcp:?";
        }
    }

    /** Percent-encodes everything outside the characters that are safe in a path or query value. */
    static String encode(String s) {
        StringBuilder b = new StringBuilder();
        for (byte x : s.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
                    || "-._~/:@!$'()*,;".indexOf(c) >= 0) {
                b.append((char) c);
            } else {
                b.append('%').append(Character.toUpperCase(Character.forDigit(c >> 4, 16)))
                        .append(Character.toUpperCase(Character.forDigit(c & 15, 16)));
            }
        }
        return b.toString();
    }

    private static void join(Thread t, Duration d) {
        try {
            t.join(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void sleepQuietly(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }

    /** Builder; at least one export and one listener are required. */
    public static final class Builder {
        private final List<NbdExport> exports = new ArrayList<>();
        private Path unixPath;
        private String tcpHost;
        private int tcpPort;
        private int maxInFlight = 64;
        private int maxInFlightBytes = 128 * 1024 * 1024;
        private long pooledBytes = 256L * 1024 * 1024;
        private Duration handshakeTimeout = Duration.ofSeconds(30);

        private Builder() {}

        /** Adds an export; the first one added is also the default export (empty name). */
        public Builder export(NbdExport export) {
            exports.add(Objects.requireNonNull(export));
            return this;
        }

        public Builder unixSocket(Path path) {
            this.unixPath = path.toAbsolutePath();
            return this;
        }

        /** TCP listener; port 0 picks a free port, see {@link NbdServer#tcpAddress()}. */
        public Builder tcp(String host, int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port " + port);
            }
            this.tcpHost = Objects.requireNonNull(host);
            this.tcpPort = port;
            return this;
        }

        /** Requests in flight per connection (default 64). */
        public Builder maxInFlight(int n) {
            if (n < 1) {
                throw new IllegalArgumentException("maxInFlight " + n);
            }
            this.maxInFlight = n;
            return this;
        }

        /** READ/WRITE payload bytes in flight per connection (default 128 MiB, at least 32 MiB). */
        public Builder maxInFlightBytes(int n) {
            this.maxInFlightBytes = n;
            return this;
        }

        /** Idle direct-buffer memory kept for reuse across connections (default 256 MiB). */
        public Builder pooledBytes(long n) {
            this.pooledBytes = n;
            return this;
        }

        public Builder handshakeTimeout(Duration d) {
            this.handshakeTimeout = Objects.requireNonNull(d);
            return this;
        }

        public NbdServer build() {
            if (exports.isEmpty()) {
                throw new IllegalStateException("an NBD server needs at least one export");
            }
            if (unixPath == null && tcpHost == null) {
                throw new IllegalStateException("an NBD server needs a Unix socket or a TCP listener");
            }
            return new NbdServer(this);
        }
    }
}
