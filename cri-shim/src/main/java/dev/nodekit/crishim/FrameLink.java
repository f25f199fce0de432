package dev.nodekit.crishim;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import io.grpc.netty.shaded.io.netty.buffer.ByteBuf;
import io.grpc.netty.shaded.io.netty.buffer.Unpooled;
import io.grpc.netty.shaded.io.netty.channel.ChannelDuplexHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelPromise;
import io.grpc.netty.shaded.io.netty.handler.codec.ByteToMessageDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2FrameReader;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2FrameWriter;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.DefaultHttp2HeadersDecoder;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2CodecUtil;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Error;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Exception;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Flags;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2FrameListener;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Headers;
import io.grpc.netty.shaded.io.netty.handler.codec.http2.Http2Settings;
import io.grpc.netty.shaded.io.netty.util.collection.IntObjectHashMap;
import io.grpc.netty.shaded.io.netty.util.concurrent.ScheduledFuture;

/**
 * One HTTP/2 connection of the frame front: a client's (kubelet's, server role) or the shared one
 * to a backend (client role). Frames are read and written with Netty's HTTP/2 frame codec; the
 * connection layer on top (streams, flow control, SETTINGS, PING, GOAWAY) is this class, kept to
 * what a relay needs: a stream is an id, its relay, its send window and what waits for that window.
 * Every frame of a stream goes to its {@link FrameRelay}. All of it runs on the front's one event
 * loop, so nothing here locks.
 *
 * <p>Flow control: inbound DATA is acknowledged to its sender (WINDOW_UPDATE, batched at half a
 * window) only once the relay has handed it to the other connection and that connection's socket
 * buffer is below its high-water mark; so a slow reader on one side stops the writer on the other,
 * and at most a window of data is held per stream. Outbound DATA waits in its stream while the
 * peer's stream or connection window is spent.
 */
final class FrameLink extends ChannelDuplexHandler implements Http2FrameListener {
    /**
     * Per-stream window we grant: large enough that a 16 MiB message is not a ping-pong of 64 KiB,
     * small enough that a call whose reader stalls holds little of the shared connection's window.
     */
    static final int STREAM_WINDOW = 512 * 1024;
    /**
     * Connection window we grant: bounds what one connection can make the shim hold, and takes 32
     * stalled calls before the shared runtime connection stalls for everyone.
     */
    static final int CONNECTION_WINDOW = 16 * 1024 * 1024;
    /** Largest header block accepted, as the gRPC server allows (grpc-message can be long). */
    static final int MAX_HEADER_LIST = 1024 * 1024;
    private static final int DEFAULT_WINDOW = Http2CodecUtil.DEFAULT_WINDOW_SIZE;
    /** Empty DATA frames in a row (without END_STREAM) a stream may send, as Netty's own default. */
    static final int MAX_CONSECUTIVE_EMPTY_DATA = 2;
    /**
     * Answers of our own (SETTINGS and PING acknowledgements, resets) that may pile up while the
     * peer does not read, as Netty's own default: a peer that floods and never reads is cut off
     * instead of growing the shim's memory.
     */
    static final int MAX_QUEUED_CONTROL_FRAMES = 10_000;
    private static final Logger log = LoggerFactory.getLogger(FrameLink.class);

    /**
     * One stream of this connection. {@code sendWindow} may go negative when the peer shrinks its
     * initial window; {@code pending} holds, in order, what waits for window (DATA) or behind it
     * (trailers).
     */
    static final class Stream {
        final int id;
        FrameRelay relay;
        int sendWindow;
        int recvWindow = STREAM_WINDOW;
        int unacked;
        int emptyFrames;
        boolean localEnded;
        boolean remoteEnded;
        boolean closed;
        ArrayDeque<Pending> pending;

        Stream(int id, int sendWindow) {
            this.id = id;
            this.sendWindow = sendWindow;
        }

        /** Whether we may still send on it: not ended by us, not reset, not closed. */
        boolean writable() {
            return !closed && !localEnded;
        }

        /** Whether both sides have ended it (or it was reset): nothing more goes either way. */
        boolean finished() {
            return closed || (localEnded && remoteEnded && pending == null);
        }
    }

    /** Outbound work queued on a stream behind flow control: DATA (with whom to acknowledge) or trailers. */
    private static final class Pending {
        ByteBuf data;
        Http2Headers trailers;
        boolean endStream;
        FrameLink ackLink;
        Stream ackStream;
    }

    /** Bytes to acknowledge to {@code link}'s sender once this connection's socket buffer drains. */
    private record Ack(FrameLink link, Stream stream, int bytes) {
    }

    private final FrameFront front;
    private final FrameBackend backend;
    private final boolean server;
    private final long gracefulShutdownMillis;
    private final DefaultHttp2FrameReader reader;
    private final DefaultHttp2FrameWriter writer = new DefaultHttp2FrameWriter();
    private final IntObjectHashMap<Stream> streams = new IntObjectHashMap<>();
    private final List<Ack> acksAfterDrain = new ArrayList<>();
    private ChannelHandlerContext ctx;
    private ByteBuf cumulation;
    private boolean prefaceRead;
    private boolean started;
    private int nextStreamId;
    private int lastPeerStreamId;
    private int peerInitialWindow = DEFAULT_WINDOW;
    private long peerMaxConcurrentStreams = Long.MAX_VALUE;
    private int connSendWindow = DEFAULT_WINDOW;
    private int connRecvWindow = CONNECTION_WINDOW;
    private int connUnacked;
    private int localStreams;
    private boolean goAwayReceived;
    private boolean goAwaySent;
    private int queuedControlFrames;
    private boolean dirty;
    private boolean retired;
    private ChannelPromise closePromise;
    private ScheduledFuture<?> forcedClose;
    private Throwable failure;

    private FrameLink(FrameFront front, FrameBackend backend, long gracefulShutdownMillis) {
        this.front = front;
        this.backend = backend;
        this.server = backend == null;
        this.gracefulShutdownMillis = gracefulShutdownMillis;
        this.nextStreamId = server ? 2 : 1;
        this.reader = new DefaultHttp2FrameReader(new DefaultHttp2HeadersDecoder(true, MAX_HEADER_LIST));
        this.prefaceRead = !server;
    }

    /** A link for a connection a client opened to the shim. */
    static FrameLink forClient(FrameFront front, long gracefulShutdownMillis) {
        return new FrameLink(front, null, gracefulShutdownMillis);
    }

    /** A link for the shim's connection to {@code backend}. */
    static FrameLink forBackend(FrameFront front, FrameBackend backend) {
        return new FrameLink(front, backend, 30_000);
    }

    ChannelHandlerContext context() {
        return ctx;
    }

    /** Streams open on this connection. */
    int openStreams() {
        return streams.size();
    }

    /** Whether new streams may be opened here: connected, preface sent, no GOAWAY either way. */
    boolean usable() {
        return ctx != null && !retired && ctx.channel().isActive() && !goAwayReceived && !goAwaySent;
    }

    /** No new streams; closes once the streams still open have ended (HTTP/2 graceful close). */
    void retire() {
        if (!retired) {
            retired = true;
            if (ctx != null && streams.isEmpty()) {
                ctx.close();
            }
        }
    }

    // ---- streams opened by us (backend links) ----

    /**
     * Opens a stream for {@code relay} and sends its request headers.
     *
     * @return the stream; null with {@link #idsUsedUp()} true when this connection has no ids left,
     *         else null when the peer's limit of concurrent streams is reached
     */
    Stream openStream(FrameRelay relay, Http2Headers headers, boolean endStream) {
        if (nextStreamId < 0) {
            return null;
        }
        if (localStreams >= peerMaxConcurrentStreams) {
            return null;
        }
        Stream s = new Stream(nextStreamId, peerInitialWindow);
        nextStreamId += 2;
        s.relay = relay;
        streams.put(s.id, s);
        localStreams++;
        sendHeaders(s, headers, endStream);
        return s;
    }

    /** Whether the stream ids of this connection are used up (a new connection takes new calls). */
    boolean idsUsedUp() {
        return nextStreamId < 0;
    }

    int localStreams() {
        return localStreams;
    }

    // ---- writes (the front flushes every written link once per read or event-loop turn) ----

    void sendHeaders(Stream s, Http2Headers headers, boolean endStream) {
        if (!s.writable()) {
            return;
        }
        if (s.pending != null) {
            Pending p = new Pending();
            p.trailers = headers;
            p.endStream = endStream;
            s.pending.add(p);
            if (endStream) {
                s.localEnded = true;
            }
            return;
        }
        writer.writeHeaders(ctx, s.id, headers, 0, endStream, ctx.voidPromise());
        front.markDirty(this);
        if (endStream) {
            localEnd(s);
        }
    }

    /**
     * Sends {@code data} on {@code s} as the peer's windows allow, the rest when they open; its bytes
     * are acknowledged to {@code ackLink}'s sender on {@code ackStream} as they leave.
     */
    void sendData(Stream s, ByteBuf data, boolean endStream, FrameLink ackLink, Stream ackStream) {
        if (!s.writable()) {
            ackLink.consumed(ackStream, data.readableBytes());
            data.release();
            return;
        }
        if (endStream) {
            s.localEnded = true; // nothing more may be queued behind this
        }
        if (s.pending == null) {
            data = writeWithinWindow(s, data, endStream, ackLink, ackStream);
            if (data == null) {
                return;
            }
            s.pending = new ArrayDeque<>(2);
        }
        Pending p = new Pending();
        p.data = data;
        p.endStream = endStream;
        p.ackLink = ackLink;
        p.ackStream = ackStream;
        s.pending.add(p);
    }

    /** Writes what the windows allow of {@code data}; returns what is left (null: all written). */
    private ByteBuf writeWithinWindow(Stream s, ByteBuf data, boolean endStream, FrameLink ackLink, Stream ackStream) {
        int n = data.readableBytes();
        int allowed = Math.min(s.sendWindow, connSendWindow);
        if (n > 0 && allowed <= 0) {
            return data;
        }
        int take = n == 0 ? 0 : Math.min(n, allowed); // an empty frame (END_STREAM) takes no window
        boolean all = take == n;
        ByteBuf part = all ? data : data.readRetainedSlice(take);
        s.sendWindow -= take;
        connSendWindow -= take;
        writer.writeData(ctx, s.id, part, 0, all && endStream, ctx.voidPromise());
        front.markDirty(this);
        acknowledgeAfterWrite(ackLink, ackStream, take);
        if (all) {
            if (endStream) {
                localEnd(s);
            }
            return null;
        }
        return data;
    }

    /** Bytes written to this connection: acknowledged to their sender now, or once our socket buffer drains. */
    private void acknowledgeAfterWrite(FrameLink ackLink, Stream ackStream, int bytes) {
        if (ackLink == null || bytes == 0) {
            return;
        }
        if (ctx.channel().isWritable()) {
            ackLink.consumed(ackStream, bytes);
        } else {
            acksAfterDrain.add(new Ack(ackLink, ackStream, bytes));
        }
    }

    /** Sends what waits on {@code s} as far as the windows allow. */
    private void drain(Stream s) {
        while (s.pending != null && !s.closed) {
            Pending p = s.pending.poll(); // out of the queue first: writing the last frame may close the stream
            if (p == null) {
                break;
            }
            if (p.data != null) {
                ByteBuf left = writeWithinWindow(s, p.data, p.endStream, p.ackLink, p.ackStream);
                if (left != null) {
                    p.data = left;
                    s.pending.addFirst(p);
                    return;
                }
            } else {
                writer.writeHeaders(ctx, s.id, p.trailers, 0, p.endStream, ctx.voidPromise());
                front.markDirty(this);
                if (p.endStream) {
                    localEnd(s);
                }
            }
        }
        if (s.pending != null && s.pending.isEmpty()) {
            s.pending = null;
        }
    }

    private void drainAll() {
        if (streams.isEmpty()) {
            return;
        }
        for (Stream s : new ArrayList<>(streams.values())) {
            if (s.pending != null) {
                drain(s);
            }
            if (connSendWindow <= 0) {
                return;
            }
        }
    }

    void sendReset(Stream s, long errorCode) {
        if (s.finished()) {
            return;
        }
        writer.writeRstStream(ctx, s.id, errorCode, ctx.voidPromise());
        front.markDirty(this);
        close(s);
    }

    /**
     * Returns {@code bytes} of {@code s}'s inbound DATA to the peer's windows: a WINDOW_UPDATE for
     * the stream (while open) and for the connection once half a window is owed. Every byte read is
     * returned exactly once, whether it was written on, dropped, or its stream closed meanwhile.
     */
    void consumed(Stream s, int bytes) {
        if (bytes <= 0 || ctx == null || !ctx.channel().isActive()) {
            return;
        }
        if (s != null && !s.closed) {
            if (!s.remoteEnded) {
                s.unacked += bytes;
                if (s.unacked >= STREAM_WINDOW / 2) {
                    writer.writeWindowUpdate(ctx, s.id, s.unacked, ctx.voidPromise());
                    s.recvWindow += s.unacked;
                    s.unacked = 0;
                    front.markDirty(this);
                }
            }
        }
        returnToConnection(bytes);
    }

    private void returnToConnection(int bytes) {
        connUnacked += bytes;
        if (connUnacked >= CONNECTION_WINDOW / 2) {
            writer.writeWindowUpdate(ctx, 0, connUnacked, ctx.voidPromise());
            connRecvWindow += connUnacked;
            connUnacked = 0;
            front.markDirty(this);
        }
    }

    boolean markDirty() {
        boolean was = dirty;
        dirty = true;
        return !was;
    }

    void flushNow() {
        dirty = false;
        if (ctx != null && ctx.channel().isActive()) {
            ctx.flush();
        }
    }

    /**
     * Counts an answer of our own written while the socket does not drain; past the limit the peer
     * is flooding without reading and the connection is closed.
     */
    private void controlFrameWritten() throws Http2Exception {
        if (ctx.channel().isWritable()) {
            queuedControlFrames = 0;
        } else if (++queuedControlFrames > MAX_QUEUED_CONTROL_FRAMES) {
            throw Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
                    "more than %d control frames queued while the peer does not read", MAX_QUEUED_CONTROL_FRAMES);
        }
    }

    // ---- stream ends ----

    private void localEnd(Stream s) {
        s.localEnded = true;
        closeIfDone(s);
    }

    private void closeIfDone(Stream s) {
        if (s.remoteEnded && s.localEnded && !s.closed && (s.pending == null || s.pending.isEmpty())) {
            close(s);
        }
    }

    /** Closes {@code s}: forgets it, releases what waited on it and tells its relay. */
    private void close(Stream s) {
        if (s.closed) {
            return;
        }
        s.closed = true;
        streams.remove(s.id);
        if ((s.id & 1) == (server ? 0 : 1)) {
            localStreams--;
        }
        if (s.pending != null) {
            for (Pending p : s.pending) {
                if (p.data != null) {
                    if (p.ackLink != null) {
                        p.ackLink.consumed(p.ackStream, p.data.readableBytes());
                    }
                    p.data.release();
                }
            }
            s.pending = null;
        }
        // Nothing is returned to the connection window here: every byte read was either consumed
        // at once or handed to the relay, which acknowledges it once written or dropped (also after
        // this close), so bytes still queued on the other side keep counting against the sender.
        if (s.relay != null) {
            s.relay.streamClosed(this);
        }
        if (streams.isEmpty()) {
            if (retired || goAwaySent) {
                if (closePromise != null) {
                    finishClose();
                } else if (retired && ctx != null) {
                    ctx.close();
                }
            }
        }
    }

    // ---- channel events ----

    /** The channel is gone: the read-side buffers go too (a header block cut short holds one). */
    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        reader.close();
        if (cumulation != null) {
            cumulation.release();
            cumulation = null;
        }
    }

    @Override
    public void handlerAdded(ChannelHandlerContext ctx) {
        this.ctx = ctx;
        if (ctx.channel().isActive()) {
            start();
        }
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) throws Exception {
        start();
        super.channelActive(ctx);
    }

    private void start() {
        if (started) {
            return;
        }
        started = true;
        if (!server) {
            ctx.write(Unpooled.wrappedBuffer(Http2CodecUtil.connectionPrefaceBuf()));
        }
        Http2Settings s = new Http2Settings().initialWindowSize(STREAM_WINDOW).maxHeaderListSize(MAX_HEADER_LIST);
        if (!server) {
            s.pushEnabled(false);
        }
        writer.writeSettings(ctx, s, ctx.voidPromise());
        writer.writeWindowUpdate(ctx, 0, CONNECTION_WINDOW - DEFAULT_WINDOW, ctx.voidPromise());
        front.markDirty(this);
        if (backend != null) {
            backend.linkActive(this);
        } else {
            front.clientConnected(this);
        }
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        ByteBuf in = (ByteBuf) msg;
        if (failure != null && !ctx.channel().isActive()) {
            in.release();
            return;
        }
        cumulation = cumulation == null ? in : ByteToMessageDecoder.MERGE_CUMULATOR.cumulate(ctx.alloc(), cumulation, in);
        try {
            if (!prefaceRead) {
                ByteBuf preface = Http2CodecUtil.connectionPrefaceBuf();
                int n = preface.readableBytes();
                int have = Math.min(n, cumulation.readableBytes());
                if (!io.grpc.netty.shaded.io.netty.buffer.ByteBufUtil.equals(cumulation, cumulation.readerIndex(),
                        preface, 0, have)) {
                    throw Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "not an HTTP/2 client preface");
                }
                if (have < n) {
                    return;
                }
                cumulation.skipBytes(n);
                prefaceRead = true;
            }
            readFrames(ctx);
        } catch (Http2Exception e) {
            connectionError(e);
        } catch (RuntimeException e) {
            connectionError(Http2Exception.connectionError(Http2Error.INTERNAL_ERROR, e, "relay failure: %s", e));
        } finally {
            if (cumulation != null && !cumulation.isReadable()) {
                cumulation.release();
                cumulation = null;
            } else if (cumulation != null && cumulation.refCnt() == 1) {
                // Only when no relayed DATA slice still points into it: discarding moves the bytes.
                cumulation.discardSomeReadBytes();
            }
        }
    }

    /**
     * Reads every whole frame in the cumulation; a stream error resets that stream and reading goes
     * on with the next frame (frames of other streams in the same read must not wait for the next
     * read). Connection errors propagate.
     */
    private void readFrames(ChannelHandlerContext ctx) throws Http2Exception {
        while (cumulation.isReadable()) {
            int before = cumulation.readerIndex();
            try {
                reader.readFrame(ctx, cumulation, this);
                return; // it stops only when what is left is not a whole frame
            } catch (Http2Exception.StreamException e) {
                streamError(e.streamId(), e);
                if (cumulation.readerIndex() == before || !ctx.channel().isActive()) {
                    return;
                }
            }
        }
    }

    /**
     * The frames relayed from this read leave first, then this connection's own (PING and SETTINGS
     * acknowledgements): grpc-go sends a BDP PING with nearly every response, and acknowledging it
     * first put a write and a wake-up of the runtime before the answer to kubelet.
     */
    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
        front.readComplete();
        flushNow();
        ctx.fireChannelReadComplete();
    }

    @Override
    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
        if (ctx.channel().isWritable()) {
            deliverAcksAfterDrain();
        }
        super.channelWritabilityChanged(ctx);
    }

    /** Gives the senders of what waited for this socket to drain their window back. */
    private void deliverAcksAfterDrain() {
        if (acksAfterDrain.isEmpty()) {
            return;
        }
        List<Ack> now = new ArrayList<>(acksAfterDrain);
        acksAfterDrain.clear();
        for (Ack a : now) {
            a.link().consumed(a.stream(), a.bytes());
        }
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) throws Exception {
        try {
            for (Stream s : new ArrayList<>(streams.values())) {
                close(s); // their relays end the other side
            }
            deliverAcksAfterDrain(); // it never leaves now: its senders get their window back
            if (forcedClose != null) {
                forcedClose.cancel(false);
            }
        } finally {
            if (backend != null) {
                backend.linkInactive(this);
            }
            super.channelInactive(ctx);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.atDebug().setCause(cause).addKeyValue("side", server ? "client" : backend.toString())
                .log("HTTP/2 connection error");
        failure = cause;
        ctx.close();
    }

    /**
     * Graceful close (the front stopping): GOAWAY to the peer, then the connection closes once its
     * streams have ended, or after the grace period.
     */
    @Override
    public void close(ChannelHandlerContext ctx, ChannelPromise promise) {
        if (closePromise != null || !ctx.channel().isActive()) {
            ctx.close(promise);
            return;
        }
        if (!goAwaySent) {
            goAwaySent = true;
            writer.writeGoAway(ctx, server ? lastPeerStreamId : 0, Http2Error.NO_ERROR.code(), Unpooled.EMPTY_BUFFER,
                    ctx.voidPromise());
            ctx.flush();
        }
        closePromise = promise;
        if (streams.isEmpty()) {
            finishClose();
        } else {
            forcedClose = ctx.executor().schedule(this::finishClose, gracefulShutdownMillis, TimeUnit.MILLISECONDS);
        }
    }

    private void finishClose() {
        ChannelPromise p = closePromise;
        closePromise = null;
        if (forcedClose != null) {
            forcedClose.cancel(false);
            forcedClose = null;
        }
        if (p == null || p.isDone()) {
            return;
        }
        ctx.flush();
        ctx.close(p);
    }

    /** Why the connection failed, if it did: what the operator sees when a backend connection is lost. */
    String failure() {
        return failure == null ? "closed by the peer" : String.valueOf(failure);
    }

    private void connectionError(Http2Exception e) {
        failure = e;
        log.atDebug().setCause(e).addKeyValue("side", server ? "client" : backend.toString())
                .log("HTTP/2 protocol error; closing the connection");
        if (ctx.channel().isActive() && !goAwaySent) {
            goAwaySent = true;
            writer.writeGoAway(ctx, lastPeerStreamId, e.error().code(), Unpooled.EMPTY_BUFFER, ctx.voidPromise());
        }
        ctx.flush();
        ctx.close();
    }

    private void streamError(int streamId, Http2Exception e) throws Http2Exception {
        if (server && (streamId & 1) == 1 && streamId > lastPeerStreamId) {
            lastPeerStreamId = streamId; // its HEADERS failed before a stream existed: its late frames are dropped
        }
        Stream s = streams.get(streamId);
        writeOwnReset(streamId, e.error());
        if (s != null) {
            if (s.relay != null) {
                s.relay.reset(this, Http2Error.CANCEL.code());
            }
            close(s);
        }
    }

    /** An RST_STREAM of our own making (not a relayed one): counted against a peer that does not read. */
    private void writeOwnReset(int streamId, Http2Error error) throws Http2Exception {
        writer.writeRstStream(ctx, streamId, error.code(), ctx.voidPromise());
        front.markDirty(this);
        controlFrameWritten();
    }

    // ---- frames ----

    @Override
    public int onDataRead(ChannelHandlerContext ctx, int streamId, ByteBuf data, int padding, boolean endOfStream)
            throws Http2Exception {
        int n = data.readableBytes() + padding;
        connRecvWindow -= n;
        if (connRecvWindow < 0) {
            throw Http2Exception.connectionError(Http2Error.FLOW_CONTROL_ERROR, "connection window exceeded");
        }
        Stream s = streams.get(streamId);
        if (s == null || s.remoteEnded) {
            returnToConnection(n); // a late frame of a reset stream: its bytes still count against the connection
            if (s == null && !knownStreamId(streamId)) {
                throw Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "DATA on idle stream %d", streamId);
            }
            return n;
        }
        s.recvWindow -= n;
        if (s.recvWindow < 0) {
            throw Http2Exception.streamError(streamId, Http2Error.FLOW_CONTROL_ERROR, "stream window exceeded");
        }
        if (padding > 0) {
            consumed(s, padding);
        }
        if (data.isReadable() || endOfStream) {
            s.emptyFrames = 0;
        } else if (++s.emptyFrames > MAX_CONSECUTIVE_EMPTY_DATA) {
            // Each costs a read and a relayed frame and carries nothing: a peer looping on them is broken.
            throw Http2Exception.connectionError(Http2Error.ENHANCE_YOUR_CALM,
                    "more than %d empty DATA frames in a row on stream %d", MAX_CONSECUTIVE_EMPTY_DATA, streamId);
        }
        if (endOfStream) {
            s.remoteEnded = true; // first, so the relay sees the stream ended by the peer
        }
        int unread = s.relay == null ? data.readableBytes() : s.relay.data(this, data, endOfStream);
        if (unread > 0) {
            consumed(s, unread);
        }
        if (endOfStream) {
            closeIfDone(s);
        }
        return n; // the frame codec ignores it; our windows are ours
    }

    /** Whether {@code id} names a stream that existed on this connection (now closed). */
    private boolean knownStreamId(int id) {
        boolean peerInitiated = (id & 1) == (server ? 1 : 0);
        return peerInitiated ? id <= lastPeerStreamId : (nextStreamId < 0 || id < nextStreamId);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int padding,
            boolean endOfStream) throws Http2Exception {
        Stream s = streams.get(streamId);
        if (s != null) {
            if (s.remoteEnded) {
                throw Http2Exception.streamError(streamId, Http2Error.STREAM_CLOSED, "HEADERS after END_STREAM");
            }
            if (endOfStream) {
                s.remoteEnded = true; // first, so the relay sees the stream ended by the peer
            }
            if (s.relay != null) {
                s.relay.headers(this, headers, endOfStream);
            }
            if (endOfStream) {
                closeIfDone(s);
            }
            return;
        }
        if (!server) {
            if (!knownStreamId(streamId)) {
                throw Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "HEADERS on idle stream %d", streamId);
            }
            return; // a reset stream's late answer
        }
        if ((streamId & 1) == 0) {
            throw Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "bad client stream id %d", streamId);
        }
        if (streamId <= lastPeerStreamId) {
            return; // a stream we reset or closed: its late frames are dropped
        }
        lastPeerStreamId = streamId;
        if (goAwaySent) {
            writeOwnReset(streamId, Http2Error.REFUSED_STREAM);
            return;
        }
        Stream created = new Stream(streamId, peerInitialWindow);
        created.remoteEnded = endOfStream;
        streams.put(streamId, created);
        front.newCall(this, created, headers, endOfStream);
        closeIfDone(created);
    }

    @Override
    public void onHeadersRead(ChannelHandlerContext ctx, int streamId, Http2Headers headers, int streamDependency,
            short weight, boolean exclusive, int padding, boolean endOfStream) throws Http2Exception {
        onHeadersRead(ctx, streamId, headers, padding, endOfStream);
    }

    /** Binds {@code s} to {@code relay}: its frames go there from now on. */
    void bind(Stream s, FrameRelay relay) {
        s.relay = relay;
    }

    @Override
    public void onRstStreamRead(ChannelHandlerContext ctx, int streamId, long errorCode) {
        Stream s = streams.get(streamId);
        if (s == null) {
            return;
        }
        s.localEnded = true; // nothing more may be sent on it
        if (s.relay != null) {
            s.relay.reset(this, errorCode);
        }
        close(s);
    }

    @Override
    public void onSettingsRead(ChannelHandlerContext ctx, Http2Settings settings) throws Http2Exception {
        Integer window = settings.initialWindowSize();
        if (window != null) {
            int delta = window - peerInitialWindow;
            for (Stream s : streams.values()) {
                if ((long) s.sendWindow + delta > Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE) {
                    throw Http2Exception.connectionError(Http2Error.FLOW_CONTROL_ERROR,
                            "SETTINGS_INITIAL_WINDOW_SIZE overflows stream %d's window", s.id);
                }
            }
            peerInitialWindow = window;
            for (Stream s : streams.values()) {
                s.sendWindow += delta;
            }
        }
        Long concurrent = settings.maxConcurrentStreams();
        if (concurrent != null) {
            peerMaxConcurrentStreams = concurrent;
        }
        Long table = settings.headerTableSize();
        if (table != null) {
            writer.headersConfiguration().maxHeaderTableSize(table);
        }
        Integer frame = settings.maxFrameSize();
        if (frame != null) {
            writer.configuration().frameSizePolicy().maxFrameSize(Math.min(frame, Http2CodecUtil.MAX_FRAME_SIZE_UPPER_BOUND));
        }
        // The peer's header list limit is not enforced here: a block over it is the peer's to
        // refuse for that one stream, where failing our write would close the whole connection.
        writer.writeSettingsAck(ctx, ctx.voidPromise());
        front.markDirty(this);
        controlFrameWritten();
        if (window != null) {
            drainAll();
        }
    }

    @Override
    public void onSettingsAckRead(ChannelHandlerContext ctx) {
    }

    @Override
    public void onPingRead(ChannelHandlerContext ctx, long data) throws Http2Exception {
        writer.writePing(ctx, true, data, ctx.voidPromise());
        controlFrameWritten();
        // flushed with this read's end, after the frames relayed from it
    }

    @Override
    public void onPingAckRead(ChannelHandlerContext ctx, long data) {
    }

    @Override
    public void onWindowUpdateRead(ChannelHandlerContext ctx, int streamId, int windowSizeIncrement)
            throws Http2Exception {
        if (streamId == 0) {
            long w = (long) connSendWindow + windowSizeIncrement;
            if (w > Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE) {
                throw Http2Exception.connectionError(Http2Error.FLOW_CONTROL_ERROR, "connection window overflow");
            }
            connSendWindow = (int) w;
            drainAll();
            return;
        }
        Stream s = streams.get(streamId);
        if (s == null) {
            return;
        }
        long w = (long) s.sendWindow + windowSizeIncrement;
        if (w > Http2CodecUtil.MAX_INITIAL_WINDOW_SIZE) {
            throw Http2Exception.streamError(streamId, Http2Error.FLOW_CONTROL_ERROR, "stream window overflow");
        }
        s.sendWindow = (int) w;
        if (s.pending != null) {
            drain(s);
        }
    }

    @Override
    public void onGoAwayRead(ChannelHandlerContext ctx, int lastStreamId, long errorCode, ByteBuf debugData) {
        goAwayReceived = true;
        if (backend != null) {
            log.atDebug().addKeyValue("backend", backend).addKeyValue("last_stream", lastStreamId)
                    .addKeyValue("error_code", errorCode).log("backend sent GOAWAY; new calls use a new connection");
            retired = true;
            backend.linkRetired(this);
            // Streams the backend never saw end now; their callers get UNAVAILABLE and may retry.
            for (Stream s : new ArrayList<>(streams.values())) {
                if (s.id > lastStreamId) {
                    close(s);
                }
            }
            if (streams.isEmpty()) {
                ctx.close();
            }
        }
    }

    @Override
    public void onPriorityRead(ChannelHandlerContext ctx, int streamId, int streamDependency, short weight,
            boolean exclusive) {
    }

    @Override
    public void onPushPromiseRead(ChannelHandlerContext ctx, int streamId, int promisedStreamId, Http2Headers headers,
            int padding) throws Http2Exception {
        throw Http2Exception.connectionError(Http2Error.PROTOCOL_ERROR, "push promise on a gRPC connection");
    }

    @Override
    public void onUnknownFrame(ChannelHandlerContext ctx, byte frameType, int streamId, Http2Flags flags,
            ByteBuf payload) {
    }
}
