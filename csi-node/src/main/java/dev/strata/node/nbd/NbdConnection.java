package dev.strata.node.nbd;

import static dev.strata.node.nbd.NbdProtocol.*;

import dev.strata.engine.volume.Volume;
import dev.strata.engine.volume.Volume.AllocationRun;
import java.io.IOException;
import java.lang.System.Logger.Level;
import java.nio.ByteBuffer;
import java.nio.channels.ByteChannel;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BooleanSupplier;

/**
 * The transmission phase of one connection.
 *
 * <p>Threads: the thread that calls {@link #serve()} is the connection's only reader. It parses
 * each request header, reads a WRITE payload completely into a pooled buffer (so a payload cut
 * short by a disconnect is never applied), checks the request, and hands it to a fresh virtual
 * thread. Request threads call the shared {@link Volume} and send their own replies through
 * {@link NbdReplyWriter}, whose lock keeps each reply message contiguous; replies therefore go
 * out in completion order, not request order. At most {@code maxInFlight} requests and
 * {@code maxInFlightBytes} of payload are outstanding: the reader blocks on the semaphores, which
 * pushes back on the client through TCP. When the stream ends (NBD_CMD_DISC, client close or
 * server shutdown) the reader waits for every outstanding request to reply before returning.
 */
final class NbdConnection {
    private static final System.Logger LOG = System.getLogger(NbdConnection.class.getName());
    private static final int MIN_HOLE_CHUNK = 4096;

    private final ByteChannel channel;
    private final NbdSession session;
    private final Volume volume;
    private final BufferPool pool;
    private final String client;
    private final BooleanSupplier shuttingDown;
    private final NbdReplyWriter writer;
    private final NbdRequestParser.Context context;
    private final int maxInFlight;
    private final Semaphore inFlight;
    private final int maxInFlightBytes;
    private final Semaphore inFlightBytes;
    /** Set by the first request thread whose reply cannot be written; the reader then stops. */
    private final AtomicBoolean broken = new AtomicBoolean();
    private final java.util.concurrent.ThreadFactory requestThreads;

    NbdConnection(ByteChannel channel, NbdSession session, BufferPool pool, String client, int maxInFlight,
                  int maxInFlightBytes, BooleanSupplier shuttingDown) {
        this.channel = channel;
        this.session = session;
        this.volume = session.export().volume();
        this.pool = pool;
        this.client = client;
        this.shuttingDown = shuttingDown;
        this.writer = new NbdReplyWriter(channel);
        this.context = session.requestContext();
        this.maxInFlight = maxInFlight;
        this.inFlight = new Semaphore(maxInFlight);
        this.maxInFlightBytes = Math.max(maxInFlightBytes, MAX_BLOCK_SIZE);
        this.inFlightBytes = new Semaphore(this.maxInFlightBytes);
        this.requestThreads = Thread.ofVirtual().name("nbd-req " + client).factory();
    }

    /**
     * Reads and dispatches requests until the client disconnects. Returns normally on
     * NBD_CMD_DISC or a clean close at a request boundary.
     *
     * @throws NbdProtocolException the client broke the protocol (bad magic, truncated request,
     *     absurd WRITE length); the caller drops the connection
     */
    void serve() throws IOException {
        ByteBuffer header = ByteBuffer.allocate(REQUEST_HEADER_LENGTH);
        ByteBuffer drain = null;
        try {
            while (!broken.get()) {
                header.clear();
                boolean more;
                try {
                    more = NbdIo.readFully(channel, header);
                } catch (NbdProtocolException e) {
                    throw new NbdProtocolException("request header truncated: " + e.getMessage());
                }
                if (!more) {
                    LOG.log(Level.DEBUG, "{0}: closed without NBD_CMD_DISC", client);
                    return;
                }
                header.flip();
                NbdRequest r = NbdRequestParser.parseHeader(header);
                if (r.type() == CMD_DISC) {
                    LOG.log(Level.DEBUG, "{0}: NBD_CMD_DISC", client);
                    return;
                }
                NbdRequestParser.Rejection rejection = NbdRequestParser.validate(r, context);
                ByteBuffer payload = null;
                int bytes = 0;
                if (r.type() == CMD_WRITE) {
                    if (r.length() > MAX_DRAINED_WRITE) {
                        throw new NbdProtocolException(r + ": payload too large to accept or skip");
                    }
                    if (rejection != null) {
                        if (drain == null) {
                            drain = ByteBuffer.allocate(64 * 1024);
                        }
                        readPayload(r, () -> {}, drain, true);
                    } else {
                        bytes = acquireBytes(r.length());
                        payload = pool.acquire((int) r.length());
                        ByteBuffer p = payload;
                        int b = bytes;
                        readPayload(r, () -> {
                            pool.release(p);
                            inFlightBytes.release(b);
                        }, p, false);
                        payload.flip();
                    }
                }
                if (rejection != null) {
                    LOG.log(Level.WARNING, "{0}: {1} refused with {2}: {3}", client, r,
                            NbdErrors.name(rejection.error()), rejection.message());
                    replyError(r, rejection.error(), rejection.message());
                    continue;
                }
                if (shuttingDown.getAsBoolean()) {
                    releasePayload(payload, bytes);
                    replyError(r, NbdErrors.ESHUTDOWN, "server is shutting down");
                    continue;
                }
                if (r.type() == CMD_READ) {
                    bytes = acquireBytes(r.length());
                }
                inFlight.acquireUninterruptibly();
                ByteBuffer p = payload;
                int b = bytes;
                requestThreads.newThread(() -> {
                    try {
                        execute(r, p);
                    } finally {
                        releasePayload(p, b);
                        inFlight.release();
                    }
                }).start();
            }
        } finally {
            // Every dispatched request replies (or fails to) before the caller closes the channel.
            inFlight.acquireUninterruptibly(maxInFlight);
            inFlight.release(maxInFlight);
        }
    }

    private interface Cleanup {
        void run();
    }

    /** Reads a WRITE payload completely; a stream that ends early is a protocol error and nothing is applied. */
    private void readPayload(NbdRequest r, Cleanup onFailure, ByteBuffer buf, boolean discard) throws IOException {
        try {
            if (discard) {
                NbdIo.skip(channel, r.length(), buf);
            } else {
                NbdIo.readExactly(channel, buf);
            }
        } catch (NbdProtocolException e) {
            onFailure.run();
            throw new NbdProtocolException(r + ": payload truncated (" + e.getMessage() + "), nothing written");
        } catch (IOException | RuntimeException e) {
            onFailure.run();
            throw e;
        }
    }

    private int acquireBytes(long length) {
        int n = (int) Math.min(length, maxInFlightBytes);
        inFlightBytes.acquireUninterruptibly(n);
        return n;
    }

    private void releasePayload(ByteBuffer payload, int bytes) {
        if (payload != null) {
            pool.release(payload);
        }
        if (bytes > 0) {
            inFlightBytes.release(bytes);
        }
    }

    /** Runs one validated request on its own thread and sends its reply. */
    private void execute(NbdRequest r, ByteBuffer payload) {
        try {
            try {
                boolean fua = (r.flags() & CMD_FLAG_FUA) != 0;
                switch (r.type()) {
                    case CMD_READ -> {
                        read(r);
                        return;
                    }
                    case CMD_BLOCK_STATUS -> {
                        blockStatus(r);
                        return;
                    }
                    case CMD_WRITE -> volume.write(r.offset(), payload, fua);
                    case CMD_FLUSH -> volume.flush();
                    case CMD_TRIM -> {
                        volume.trim(r.offset(), r.length());
                        if (fua) {
                            volume.flush(); // trim has no FUA of its own; a flush makes it durable
                        }
                    }
                    // Zeroing is metadata-only, so FAST_ZERO is always honoured; NO_HOLE needs nothing
                    // extra because in-range writes never fail with ENOSPC on this volume.
                    case CMD_WRITE_ZEROES -> volume.writeZeroes(r.offset(), r.length(), fua);
                    case CMD_CACHE -> {
                        // A hint: the engine's read cache fills on demand, so there is nothing to do.
                    }
                    default -> throw new IllegalStateException("validated request of unknown type " + r);
                }
            } catch (IOException | RuntimeException e) {
                failed(r, e);
                return;
            }
            writer.simple(r.handle(), 0, null);
        } catch (IOException e) {
            replyFailed(r, e);
        }
    }

    private void read(NbdRequest r) throws IOException {
        int length = (int) r.length();
        List<AllocationRun> runs = List.of();
        if (session.structuredReplies()) {
            try {
                runs = exactRuns(r.offset(), length, 16);
            } catch (IOException | RuntimeException e) {
                runs = List.of(); // holes are only an optimisation; the read itself reports real errors
            }
            if (runs.size() == 1 && runs.getFirst().hole() && runs.getFirst().length() >= length) {
                writer.offsetHole(r.handle(), r.offset(), length, true);
                return;
            }
        }
        ByteBuffer buf = pool.acquire(length);
        try {
            try {
                volume.read(r.offset(), buf);
                if (buf.hasRemaining()) {
                    throw new IOException("volume returned " + buf.position() + " of " + length + " bytes");
                }
            } catch (IOException | RuntimeException e) {
                failed(r, e);
                return;
            }
            buf.flip();
            if (!session.structuredReplies()) {
                writer.simple(r.handle(), 0, buf);
            } else {
                sendReadChunks(r, buf, runs);
            }
        } finally {
            pool.release(buf);
        }
    }

    /**
     * Structured read reply: data runs as OFFSET_DATA, holes of at least 4 KiB as OFFSET_HOLE,
     * the last chunk flagged DONE. The data was read completely before the first chunk, so no
     * error can follow a chunk.
     */
    private void sendReadChunks(NbdRequest r, ByteBuffer buf, List<AllocationRun> runs) throws IOException {
        int length = buf.remaining();
        int start = 0;       // start of the pending segment
        boolean pendingHole = false;
        int pos = 0;
        for (AllocationRun run : runs) {
            if (pos >= length || run.length() <= 0) {
                break;
            }
            int l = (int) Math.min(run.length(), length - pos);
            boolean hole = run.hole() && l >= MIN_HOLE_CHUNK;
            if (pos > start && hole != pendingHole) {
                sendSegment(r, buf, start, pos - start, pendingHole, false);
                start = pos;
            }
            pendingHole = hole;
            pos += l;
        }
        if (pos < length) { // not covered by the runs: send as data
            if (pos > start && pendingHole) {
                sendSegment(r, buf, start, pos - start, true, false);
                start = pos;
            }
            pendingHole = false;
        }
        sendSegment(r, buf, start, length - start, pendingHole, true);
    }

    private void sendSegment(NbdRequest r, ByteBuffer buf, int from, int length, boolean hole, boolean done)
            throws IOException {
        long offset = r.offset() + from;
        if (hole) {
            writer.offsetHole(r.handle(), offset, length, done);
        } else {
            writer.offsetData(r.handle(), offset, buf.slice(from, length), done);
        }
    }

    private void blockStatus(NbdRequest r) throws IOException {
        boolean one = (r.flags() & CMD_FLAG_REQ_ONE) != 0;
        int max = one ? 1 : MAX_BLOCK_STATUS_EXTENTS;
        List<AllocationRun> runs;
        try {
            runs = exactRuns(r.offset(), r.length(), max);
        } catch (IOException | RuntimeException e) {
            failed(r, e);
            return;
        }
        int[] extents = new int[2 * max];
        int count = 0;
        long covered = 0;
        for (AllocationRun run : runs) {
            long l = Math.min(run.length(), r.length() - covered);
            if (l <= 0) {
                break;
            }
            int flags = run.hole() ? STATE_HOLE | STATE_ZERO : 0;
            if (count > 0 && extents[2 * count - 1] == flags) {
                extents[2 * count - 2] = (int) (Integer.toUnsignedLong(extents[2 * count - 2]) + l);
            } else if (count == max) {
                break;
            } else {
                extents[2 * count] = (int) l;
                extents[2 * count + 1] = flags;
                count++;
            }
            covered += l;
        }
        if (count == 0) {
            // The engine told us nothing: "allocated, contents unknown" is always a safe answer.
            extents[0] = (int) r.length();
            extents[1] = 0;
            count = 1;
        }
        writer.blockStatus(r.handle(), META_BASE_ALLOCATION_ID, extents, count);
    }

    /**
     * Up to {@code max} allocation runs from {@code offset}, each exact. Asks the volume for one
     * more than needed and drops the last when it got that many: an engine that stops adding
     * runs at its limit may still merge later runs of the same state into its last one (the
     * engine's {@code LogStructuredVolume.allocation} did, so a hole run swallowed the data after
     * it and structured reads sent zeros for data). Only the runs before the last are trusted.
     */
    private List<AllocationRun> exactRuns(long offset, long length, int max) throws IOException {
        List<AllocationRun> runs = volume.allocation(offset, length, max + 1);
        return runs.size() > max ? runs.subList(0, max) : runs;
    }

    /** The volume failed a request: log it with its context and send the mapped error. */
    private void failed(NbdRequest r, Throwable e) throws IOException {
        int error = NbdErrors.fromException(e, r.type());
        Level level = e instanceof RuntimeException ? Level.ERROR : Level.WARNING;
        LOG.log(level, "{0}: {1} on export {2} failed with {3}: {4}", client, r, session.export().name(),
                NbdErrors.name(error), String.valueOf(e));
        replyError(r, error, NbdProtocol.commandName(r.type()) + " failed: " + e.getMessage());
    }

    private void replyError(NbdRequest r, int error, String message) throws IOException {
        try {
            if (session.structuredReplies()) {
                writer.structuredError(r.handle(), error, message);
            } else {
                writer.simple(r.handle(), error, null);
            }
        } catch (IOException e) {
            replyFailed(r, e);
        }
    }

    private void replyFailed(NbdRequest r, IOException e) {
        if (broken.compareAndSet(false, true)) {
            LOG.log(Level.INFO, "{0}: cannot send reply to {1}, closing: {2}", client, r, String.valueOf(e));
            try {
                channel.close(); // wakes the reader, which then waits for the other requests
            } catch (IOException ignored) {
                // already closing
            }
        }
    }
}
