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

    /// <summary>The API's form of a time: UTC, with milliseconds.</summary>
    private const string TimeFormat = "yyyy-MM-dd'T'HH:mm:ss.fff'Z'";

    /// <summary>A time as the API writes it (<see cref="TimeFormat"/>).</summary>
    public static string Time(DateTime value) => value.ToUniversalTime().ToString(TimeFormat, CultureInfo.InvariantCulture);

    private sealed class UtcMillisecondsConverter : JsonConverter<DateTime>
    {
        public override DateTime Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            DateTime.Parse(reader.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal);

        public override void Write(Utf8JsonWriter writer, DateTime value, JsonSerializerOptions options)
        {
            Span<byte> utf8 = stackalloc byte[32]; // UTF-8 straight into the writer: no string per time
            value.ToUniversalTime().TryFormat(utf8, out var written, TimeFormat, CultureInfo.InvariantCulture);
            writer.WriteStringValue(utf8[..written]);
        }
    }
}
