package dev.strata.node.nbd;

/**
 * Wire constants of the NBD protocol (fixed newstyle handshake, simple and structured replies,
 * {@code base:allocation}). Values follow doc/proto.md of the NetworkBlockDevice project; the
 * limits at the bottom are this server's own choices and are documented in docs/nbd.md.
 */
public final class NbdProtocol {
    private NbdProtocol() {}

    // --- magics -------------------------------------------------------------------------------
    public static final long NBDMAGIC = 0x4e42444d41474943L;
    public static final long IHAVEOPT = 0x49484156454F5054L;
    public static final long OPTION_REPLY_MAGIC = 0x3e889045565a9L;
    public static final int REQUEST_MAGIC = 0x25609513;
    public static final int SIMPLE_REPLY_MAGIC = 0x67446698;
    public static final int STRUCTURED_REPLY_MAGIC = 0x668e33ef;

    // --- handshake flags (server, 16 bits) and client flags (32 bits) --------------------------
    public static final int FLAG_FIXED_NEWSTYLE = 1;
    public static final int FLAG_NO_ZEROES = 1 << 1;
    public static final int FLAG_C_FIXED_NEWSTYLE = 1;
    public static final int FLAG_C_NO_ZEROES = 1 << 1;

    // --- transmission flags (16 bits) ----------------------------------------------------------
    public static final int TX_HAS_FLAGS = 1;
    public static final int TX_READ_ONLY = 1 << 1;
    public static final int TX_SEND_FLUSH = 1 << 2;
    public static final int TX_SEND_FUA = 1 << 3;
    public static final int TX_ROTATIONAL = 1 << 4;
    public static final int TX_SEND_TRIM = 1 << 5;
    public static final int TX_SEND_WRITE_ZEROES = 1 << 6;
    public static final int TX_SEND_DF = 1 << 7;
    public static final int TX_CAN_MULTI_CONN = 1 << 8;
    public static final int TX_SEND_RESIZE = 1 << 9;
    public static final int TX_SEND_CACHE = 1 << 10;
    public static final int TX_SEND_FAST_ZERO = 1 << 11;

    // --- options -------------------------------------------------------------------------------
    public static final int OPT_EXPORT_NAME = 1;
    public static final int OPT_ABORT = 2;
    public static final int OPT_LIST = 3;
    public static final int OPT_PEEK_EXPORT = 4;
    public static final int OPT_STARTTLS = 5;
    public static final int OPT_INFO = 6;
    public static final int OPT_GO = 7;
    public static final int OPT_STRUCTURED_REPLY = 8;
    public static final int OPT_LIST_META_CONTEXT = 9;
    public static final int OPT_SET_META_CONTEXT = 10;
    public static final int OPT_EXTENDED_HEADERS = 11;

    // --- option replies ------------------------------------------------------------------------
    public static final int REP_ACK = 1;
    public static final int REP_SERVER = 2;
    public static final int REP_INFO = 3;
    public static final int REP_META_CONTEXT = 4;
    public static final int REP_ERR_UNSUP = 0x80000001;
    public static final int REP_ERR_POLICY = 0x80000002;
    public static final int REP_ERR_INVALID = 0x80000003;
    public static final int REP_ERR_PLATFORM = 0x80000004;
    public static final int REP_ERR_TLS_REQD = 0x80000005;
    public static final int REP_ERR_UNKNOWN = 0x80000006;
    public static final int REP_ERR_SHUTDOWN = 0x80000007;
    public static final int REP_ERR_BLOCK_SIZE_REQD = 0x80000008;
    public static final int REP_ERR_TOO_BIG = 0x80000009;

    // --- NBD_REP_INFO types --------------------------------------------------------------------
    public static final int INFO_EXPORT = 0;
    public static final int INFO_NAME = 1;
    public static final int INFO_DESCRIPTION = 2;
    public static final int INFO_BLOCK_SIZE = 3;

    // --- commands --------------------------------------------------------------------------------
    public static final int CMD_READ = 0;
    public static final int CMD_WRITE = 1;
    public static final int CMD_DISC = 2;
    public static final int CMD_FLUSH = 3;
    public static final int CMD_TRIM = 4;
    public static final int CMD_CACHE = 5;
    public static final int CMD_WRITE_ZEROES = 6;
    public static final int CMD_BLOCK_STATUS = 7;

    // --- command flags -------------------------------------------------------------------------
    public static final int CMD_FLAG_FUA = 1;
    public static final int CMD_FLAG_NO_HOLE = 1 << 1;
    public static final int CMD_FLAG_DF = 1 << 2;
    public static final int CMD_FLAG_REQ_ONE = 1 << 3;
    public static final int CMD_FLAG_FAST_ZERO = 1 << 4;

    // --- structured replies --------------------------------------------------------------------
    public static final int REPLY_FLAG_DONE = 1;
    public static final int REPLY_TYPE_NONE = 0;
    public static final int REPLY_TYPE_OFFSET_DATA = 1;
    public static final int REPLY_TYPE_OFFSET_HOLE = 2;
    public static final int REPLY_TYPE_BLOCK_STATUS = 5;
    public static final int REPLY_TYPE_ERROR = 0x8001;
    public static final int REPLY_TYPE_ERROR_OFFSET = 0x8002;

    // --- base:allocation -----------------------------------------------------------------------
    public static final String META_BASE_ALLOCATION = "base:allocation";
    /** The id we hand out for {@code base:allocation}; any non-zero value is legal. */
    public static final int META_BASE_ALLOCATION_ID = 1;
    public static final int STATE_HOLE = 1;
    public static final int STATE_ZERO = 1 << 1;

    // --- sizes of fixed-length messages --------------------------------------------------------
    public static final int REQUEST_HEADER_LENGTH = 28;
    public static final int OPTION_HEADER_LENGTH = 16;
    public static final int SIMPLE_REPLY_HEADER_LENGTH = 16;
    public static final int STRUCTURED_REPLY_HEADER_LENGTH = 20;

    // --- this server's limits ------------------------------------------------------------------
    /** Advertised preferred block size. */
    public static final int PREFERRED_BLOCK_SIZE = 4096;
    /** Advertised maximum block size for READ, WRITE and CACHE (2^25, what every client copes with). */
    public static final int MAX_BLOCK_SIZE = 32 * 1024 * 1024;
    /**
     * A WRITE longer than the maximum but at most this long has its payload drained and gets
     * EINVAL; anything longer is treated as a denial of service and the connection is dropped.
     */
    public static final long MAX_DRAINED_WRITE = 64L * 1024 * 1024;
    /** Option payloads above this are refused with NBD_REP_ERR_TOO_BIG and the connection is closed. */
    public static final int MAX_OPTION_LENGTH = 64 * 1024;
    /** Strings (export names, queries, messages) may not exceed this, per the spec. */
    public static final int MAX_STRING_LENGTH = 4096;
    /** Queries per LIST/SET_META_CONTEXT before NBD_REP_ERR_TOO_BIG. */
    public static final int MAX_META_QUERIES = 128;
    /** Most descriptors in one BLOCK_STATUS chunk. */
    public static final int MAX_BLOCK_STATUS_EXTENTS = 64;

    public static String commandName(int type) {
        return switch (type) {
            case CMD_READ -> "READ";
            case CMD_WRITE -> "WRITE";
            case CMD_DISC -> "DISC";
            case CMD_FLUSH -> "FLUSH";
            case CMD_TRIM -> "TRIM";
            case CMD_CACHE -> "CACHE";
            case CMD_WRITE_ZEROES -> "WRITE_ZEROES";
            case CMD_BLOCK_STATUS -> "BLOCK_STATUS";
            default -> "CMD(" + type + ")";
        };
    }

    public static String optionName(int option) {
        return switch (option) {
            case OPT_EXPORT_NAME -> "EXPORT_NAME";
            case OPT_ABORT -> "ABORT";
            case OPT_LIST -> "LIST";
            case OPT_PEEK_EXPORT -> "PEEK_EXPORT";
            case OPT_STARTTLS -> "STARTTLS";
            case OPT_INFO -> "INFO";
            case OPT_GO -> "GO";
            case OPT_STRUCTURED_REPLY -> "STRUCTURED_REPLY";
            case OPT_LIST_META_CONTEXT -> "LIST_META_CONTEXT";
            case OPT_SET_META_CONTEXT -> "SET_META_CONTEXT";
            case OPT_EXTENDED_HEADERS -> "EXTENDED_HEADERS";
            default -> "OPT(" + Integer.toUnsignedString(option) + ")";
        };
    }
}
