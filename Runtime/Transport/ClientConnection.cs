using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net.Sockets;
using FinCore.Runtime.Membership;

namespace FinCore.Runtime.Transport;

/// <summary>An outgoing, multiplexed connection to one silo: many concurrent requests, matched to responses
/// by id; a bounded number in flight (callers wait beyond it); deadlines enforced by one timer.</summary>
internal sealed class ClientConnection : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly IDuplexPipe _pipe;
    private readonly OutboundQueue _queue = new();
    private readonly ConcurrentDictionary<long, PendingCall> _pending = new();
    private readonly SemaphoreSlim _slots;
    private readonly CancellationTokenSource _cts = new();
    private readonly Timer _deadlineTimer;
    private long _nextId;
    private int _closed;
    private Task _loops = Task.CompletedTask;

    private ClientConnection(Socket socket, IDuplexPipe pipe, string remoteSiloId, int maxInFlight)
    {
        _socket = socket;
        _pipe = pipe;
        RemoteSiloId = remoteSiloId;
        _slots = new SemaphoreSlim(maxInFlight, maxInFlight);
        _deadlineTimer = new Timer(static s => ((ClientConnection)s!).ExpireDeadlines(), this, 100, 100);
    }

    public string RemoteSiloId { get; }

    public bool IsClosed => Volatile.Read(ref _closed) != 0;

    /// <summary>Raised once when the connection closes for any reason.</summary>
    public event Action<ClientConnection>? Closed;

    public static async Task<ClientConnection> ConnectAsync(SiloInfo target, TransportSettings settings, CancellationToken ct)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            using var connectCts = CancellationTokenSource.CreateLinkedTokenSource(ct);
            connectCts.CancelAfter(settings.ConnectTimeout);
            await socket.ConnectAsync(target.Address, target.Port, connectCts.Token);
            var stream = new NetworkStream(socket, ownsSocket: false);
            var pipe = new StreamDuplexPipe(PipeReader.Create(stream), PipeWriter.Create(stream));
            connectCts.CancelAfter(Handshake.Timeout);
            var remoteId = await Handshake.ClientAsync(pipe, settings.ClusterId, settings.Secret, settings.LocalId, connectCts.Token);
            if (remoteId != target.SiloId)
            {
                throw new TransportException($"{target.Address}:{target.Port} is now silo {remoteId}, not {target.SiloId}.", maybeDelivered: false);
            }

            var connection = new ClientConnection(socket, pipe, remoteId, settings.MaxInFlightPerConnection);
            connection._loops = connection.RunAsync();
            return connection;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or HandshakeException or IOException)
        {
            socket.Dispose();
            throw new TransportException($"Cannot connect to silo {target.SiloId} at {target.Address}:{target.Port}: {e.Message}", maybeDelivered: false, e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends a prepared request frame (built by <paramref name="write"/> with the assigned id) and awaits its response.</summary>
    public async Task<WireResponse> SendAsync<TState>(TState state, Action<PooledBufferWriter, long, TState> write, int timeoutMs)
    {
        if (IsClosed)
        {
            throw new TransportException($"Connection to {RemoteSiloId} is closed.", maybeDelivered: false);
        }

        await _slots.WaitAsync();
        try
        {
            var id = Interlocked.Increment(ref _nextId);
            var pending = new PendingCall(Environment.TickCount64 + timeoutMs);
            _pending[id] = pending;
            var frame = new PooledBufferWriter(512);
            write(frame, id, state);
            if (!_queue.TryEnqueue(frame) || IsClosed)
            {
                _pending.TryRemove(id, out _);
                throw new TransportException($"Connection to {RemoteSiloId} is closed.", maybeDelivered: false);
            }

            return await pending.Task;
        }
        finally
        {
            _slots.Release();
        }
    }

    /// <summary>A direct probe: the peer answers with its silo id.</summary>
    public async Task<string> PingAsync(TimeSpan timeout)
    {
        var r = await SendAsync(0, static (w, id, _) =>
        {
            Frame.Begin(w, FrameType.Ping, id);
            Frame.End(w);
        }, (int)timeout.TotalMilliseconds);
        return System.Text.Encoding.UTF8.GetString(r.Payload);
    }

    private async Task RunAsync()
    {
        var writer = _queue.RunAsync(_pipe.Output, _cts.Token);
        Exception? error = null;
        try
        {
            await ReadLoopAsync();
        }
        catch (Exception e)
        {
            error = e;
        }

        Close(error);
        try
        {
            await writer;
        }
        catch (Exception)
        {
            // The socket is gone; nothing more to write.
        }
    }

    private async Task ReadLoopAsync()
    {
        var input = _pipe.Input;
        while (!_cts.IsCancellationRequested)
        {
            var result = await input.ReadAsync(_cts.Token);
            var buffer = result.Buffer;
            try
            {
                while (Frame.TryRead(ref buffer, out var type, out var id, out var body))
                {
                    if (type is FrameType.Response or FrameType.Pong && _pending.TryRemove(id, out var call))
                    {
                        call.TrySetResult(type == FrameType.Response
                            ? WireResponse.Parse(body)
                            : new WireResponse(ResponseStatus.Ok, 0, body.ToArray()));
                    }
                }
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }

            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private void ExpireDeadlines()
    {
        if (_pending.IsEmpty)
        {
            return;
        }

        var now = Environment.TickCount64;
        foreach (var (id, call) in _pending)
        {
            if (call.Deadline <= now && _pending.TryRemove(id, out _))
            {
                call.TrySetException(new TimeoutException($"No response from silo {RemoteSiloId} before the call's deadline."));
            }
        }
    }

    private void Close(Exception? error)
    {
        if (Interlocked.Exchange(ref _closed, 1) != 0)
        {
            return;
        }

        _queue.Complete();
        _cts.Cancel();
        _deadlineTimer.Dispose();
        foreach (var id in _pending.Keys)
        {
            if (_pending.TryRemove(id, out var call))
            {
                call.TrySetException(new TransportException(
                    $"Connection to silo {RemoteSiloId} was lost{(error is null ? "" : ": " + error.Message)}.", maybeDelivered: true));
            }
        }

        try
        {
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // Already reset by the peer.
        }
        catch (ObjectDisposedException)
        {
        }

        _socket.Dispose();
        Closed?.Invoke(this);
    }

    public async ValueTask DisposeAsync()
    {
        Close(null);
        try
        {
            await _loops;
        }
        catch (Exception)
        {
            // Closing; errors were delivered to pending calls.
        }

        _cts.Dispose();
    }

    private sealed class PendingCall(long deadline) : TaskCompletionSource<WireResponse>(TaskCreationOptions.RunContinuationsAsynchronously)
    {
        public long Deadline { get; } = deadline;
    }

    private sealed class StreamDuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;
        public PipeWriter Output { get; } = output;
    }
}
