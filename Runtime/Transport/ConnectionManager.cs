using System.Collections.Concurrent;
using FinCore.Runtime.Membership;

namespace FinCore.Runtime.Transport;

/// <summary>One multiplexed connection per remote silo, opened on first use and re-opened after it breaks.</summary>
internal sealed class ConnectionManager(TransportSettings settings) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<string, Task<ClientConnection>> _connections = new(StringComparer.Ordinal);
    private int _disposed;

    public ValueTask<ClientConnection> GetAsync(SiloInfo silo)
    {
        if (_connections.TryGetValue(silo.SiloId, out var task) && task.IsCompletedSuccessfully && !task.Result.IsClosed)
        {
            return new ValueTask<ClientConnection>(task.Result);
        }

        return new ValueTask<ClientConnection>(GetSlowAsync(silo));
    }

    private async Task<ClientConnection> GetSlowAsync(SiloInfo silo)
    {
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        while (true)
        {
            if (_connections.TryGetValue(silo.SiloId, out var existing))
            {
                if (!existing.IsCompleted)
                {
                    return await existing;
                }

                if (existing.IsCompletedSuccessfully && !existing.Result.IsClosed)
                {
                    return existing.Result;
                }

                _connections.TryRemove(new KeyValuePair<string, Task<ClientConnection>>(silo.SiloId, existing));
                continue;
            }

            var connect = ConnectAsync(silo);
            if (_connections.TryAdd(silo.SiloId, connect))
            {
                try
                {
                    return await connect;
                }
                catch
                {
                    _connections.TryRemove(new KeyValuePair<string, Task<ClientConnection>>(silo.SiloId, connect));
                    throw;
                }
            }
        }
    }

    private async Task<ClientConnection> ConnectAsync(SiloInfo silo)
    {
        var connection = await ClientConnection.ConnectAsync(silo, settings, CancellationToken.None);
        connection.Closed += c =>
        {
            if (_connections.TryGetValue(c.RemoteSiloId, out var t) && t.IsCompletedSuccessfully && ReferenceEquals(t.Result, c))
            {
                _connections.TryRemove(new KeyValuePair<string, Task<ClientConnection>>(c.RemoteSiloId, t));
            }
        };
        return connection;
    }

    /// <summary>A direct probe: the silo id that answered at that address, or null when nothing did.</summary>
    public async Task<string?> ProbeAsync(SiloInfo silo, TimeSpan timeout)
    {
        try
        {
            var connectTask = GetAsync(silo).AsTask();
            if (await Task.WhenAny(connectTask, Task.Delay(timeout)) != connectTask)
            {
                return null;
            }

            return await (await connectTask).PingAsync(timeout);
        }
        catch (Exception e) when (e is TransportException or TimeoutException or ObjectDisposedException)
        {
            return null;
        }
    }

    /// <summary>Closes connections to silos that left the cluster.</summary>
    public void Prune(MembershipView view)
    {
        foreach (var (id, task) in _connections)
        {
            var silo = view.Find(id);
            if ((silo is null || silo.Status == SiloStatus.Dead) && task.IsCompletedSuccessfully)
            {
                _ = task.Result.DisposeAsync().AsTask();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var task in _connections.Values)
        {
            if (task.IsCompletedSuccessfully)
            {
                await task.Result.DisposeAsync();
            }
        }

        _connections.Clear();
    }
}
