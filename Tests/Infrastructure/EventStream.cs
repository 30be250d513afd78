using System.Net;
using System.Text.Json;

namespace FinCore.Tests.Infrastructure;

/// <summary>One Server-Sent Event as the client parsed it.</summary>
public sealed record ServerSentEvent(string? Id, string Type, string Data)
{
    public JsonElement Json => JsonDocument.Parse(Data).RootElement;
}

/// <summary>A Server-Sent Events client over a real HTTP connection: reads the stream in the background and keeps every
/// event, in order, as a browser's would.</summary>
public sealed class EventStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<ServerSentEvent> _events = [];
    private readonly Task _reading;

    private EventStream(HttpResponseMessage response)
    {
        _response = response;
        _reading = Task.Run(ReadAsync);
    }

    public bool Ended { get; private set; }

    public IReadOnlyList<ServerSentEvent> Events
    {
        get
        {
            lock (_events)
            {
                return [.. _events];
            }
        }
    }

    public IReadOnlyList<ServerSentEvent> Notifications => Events.Where(e => e.Type == "notification").ToList();

    /// <summary>Opens the stream; the status and body when the server refused it.</summary>
    public static async Task<(EventStream? Stream, HttpStatusCode Status, string Body)> OpenAsync(HttpClient http, string token, string? lastEventId = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/notifications/stream");
        request.Headers.TryAddWithoutValidation("Authorization", "Bearer " + token);
        if (lastEventId is not null)
        {
            request.Headers.TryAddWithoutValidation("Last-Event-ID", lastEventId);
        }

        var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var body = await response.Content.ReadAsStringAsync();
            response.Dispose();
            return (null, response.StatusCode, body);
        }

        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        return (new EventStream(response), HttpStatusCode.OK, "");
    }

    private async Task ReadAsync()
    {
        try
        {
            using var reader = new StreamReader(await _response.Content.ReadAsStreamAsync(_stop.Token));
            string? id = null, type = null, data = null;
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.Length == 0)
                {
                    if (data is not null)
                    {
                        lock (_events)
                        {
                            _events.Add(new ServerSentEvent(id, type ?? "message", data));
                        }
                    }

                    (id, type, data) = (null, null, null);
                    continue;
                }

                if (line.StartsWith(':'))
                {
                    continue;
                }

                var colon = line.IndexOf(':');
                var field = colon < 0 ? line : line[..colon];
                var value = colon < 0 ? "" : line[(colon + 1)..].TrimStart(' ');
                switch (field)
                {
                    case "id": id = value; break;
                    case "event": type = value; break;
                    case "data": data = data is null ? value : data + "\n" + value; break;
                }
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
            // the server went away
        }
        catch (HttpRequestException)
        {
        }
        finally
        {
            Ended = true;
        }
    }

    /// <summary>Waits until the stream holds <paramref name="count"/> notifications.</summary>
    public async Task<IReadOnlyList<ServerSentEvent>> NotificationsAsync(int count, TimeSpan timeout, string what)
    {
        await Poll.UntilAsync(() => Task.FromResult(Notifications.Count >= count || Ended), timeout, what, intervalMs: 50);
        var n = Notifications;
        Assert.True(n.Count >= count, $"{what}: the stream ended with {n.Count} notification(s)");
        return n;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _response.Dispose();
        try
        {
            await _reading;
        }
        catch (Exception)
        {
            // stopped
        }

        _stop.Dispose();
    }
}
