using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinCore.Grains;

/// <summary>The JSON of API.md: snake_case names, RFC 3339 UTC times with milliseconds. Event payloads and webhook
/// bodies use it too, so what a tenant receives is what the API shows.</summary>
public static class ApiJson
{
    public static readonly JsonSerializerOptions Options = Create();

    private static JsonSerializerOptions Create()
    {
        var o = new JsonSerializerOptions(JsonSerializerDefaults.Web)
        {
            PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
            DictionaryKeyPolicy = null,
            DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        };
        o.Converters.Add(new UtcMillisecondsConverter());
        o.MakeReadOnly(populateMissingResolver: true);
        return o;
    }

    /// <summary>The API's form of a time: UTC, <c>yyyy-MM-ddTHH:mm:ss.fffZ</c>.</summary>
    public static string Time(DateTime value)
    {
        Span<byte> utf8 = stackalloc byte[TimeLength];
        WriteTime(value, utf8);
        return System.Text.Encoding.ASCII.GetString(utf8);
    }

    private const int TimeLength = 24;

    /// <summary>Writes <see cref="Time"/>'s form into 24 bytes without parsing a format string (every event payload and
    /// API answer holds two times).</summary>
    private static void WriteTime(DateTime value, Span<byte> to)
    {
        var t = value.Kind == DateTimeKind.Utc ? value : value.ToUniversalTime();
        Digits(to[..4], t.Year);
        to[4] = (byte)'-';
        Digits(to.Slice(5, 2), t.Month);
        to[7] = (byte)'-';
        Digits(to.Slice(8, 2), t.Day);
        to[10] = (byte)'T';
        Digits(to.Slice(11, 2), t.Hour);
        to[13] = (byte)':';
        Digits(to.Slice(14, 2), t.Minute);
        to[16] = (byte)':';
        Digits(to.Slice(17, 2), t.Second);
        to[19] = (byte)'.';
        Digits(to.Slice(20, 3), t.Millisecond);
        to[23] = (byte)'Z';
    }

    private static void Digits(Span<byte> to, int value)
    {
        for (var i = to.Length - 1; i >= 0; i--)
        {
            to[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }

    private sealed class UtcMillisecondsConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTime.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
        {
            Span<byte> utf8 = stackalloc byte[TimeLength];
            WriteTime(value, utf8);
            writer.WriteStringValue(utf8);
        }
    }
}
