using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.Extensions.Logging;

namespace FinCore.Runtime.Transport;

/// <summary>An incoming connection: the handshake first, then requests dispatched concurrently up to a limit;
/// past it the connection stops reading, so TCP pushes back on the sender.</summary>
internal sealed class ServerConnection(
    IDuplexPipe pipe,
    TransportSettings settings,
    IRequestDispatcher dispatcher,
    ILogger logger,
    string remoteEndpoint)
{
    private readonly OutboundQueue _queue = new();
    private readonly SemaphoreSlim _slots = new(settings.MaxInFlightPerConnection, settings.MaxInFlightPerConnection);

    public async Task RunAsync(CancellationToken closed)
    {
        string clientId;
        try
        {
            using var hs = CancellationTokenSource.CreateLinkedTokenSource(closed);
            hs.CancelAfter(Handshake.Timeout);
            clientId = await Handshake.ServerAsync(pipe, settings.ClusterId, settings.Secret, settings.LocalId, hs.Token);
        }
        catch (Exception e) when (e is HandshakeException or OperationCanceledException or IOException)
        {
            TransportLog.HandshakeRefused(logger, remoteEndpoint, e.Message);
            return;
        }

        TransportLog.ConnectionAccepted(logger, clientId, remoteEndpoint);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(closed);
        var writer = _queue.RunAsync(pipe.Output, cts.Token);
        try
        {
            await ReadLoopAsync(cts.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or InvalidDataException)
        {
            TransportLog.ConnectionClosed(logger, clientId, e.Message);
        }
        finally
        {
            _queue.Complete();
        }

        try
        {
            await writer;
        }
        catch (Exception e) when (e is IOException or OperationCanceledException)
        {
            // Peer gone.
        }
    }

    private async Task ReadLoopAsync(CancellationToken ct)
    {
        var input = pipe.Input;
        while (true)
        {
            var result = await input.ReadAsync(ct);
            var buffer = result.Buffer;
            try
            {
                while (Frame.TryRead(ref buffer, out var type, out var id, out var body))
                {
                    switch (type)
                    {
                        case FrameType.Request:
                            var request = WireRequest.Parse(id, body.ToArray());
                            if (!_slots.Wait(0, CancellationToken.None))
                            {
                                await _slots.WaitAsync(ct);
                            }

                            _ = DispatchAsync(request);
                            break;
                        case FrameType.Ping:
                            var pong = new PooledBufferWriter(64);
                            Frame.Begin(pong, FrameType.Pong, id);
                            pong.Write(Encoding.UTF8.GetBytes(settings.LocalId));
                            Frame.End(pong);
                            _queue.TryEnqueue(pong);
                            break;
                        default:
                            throw new InvalidDataException($"Unexpected frame {type}.");
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

    private async Task DispatchAsync(WireRequest request)
    {
        try
        {
            var response = await dispatcher.DispatchAsync(request);
            _queue.TryEnqueue(response);
        }
        catch (Exception e)
        {
            // The dispatcher turns grain exceptions into responses; reaching here is a runtime bug.
            TransportLog.DispatchFailed(logger, e, request.Grain.ToString());
        }
        finally
        {
            _slots.Release();
        }
    }
}
