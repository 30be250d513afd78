using System.Buffers;
using System.Collections.Concurrent;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace FinCore.Runtime.Invocation;

/// <summary>Arguments, results and exceptions on the wire: System.Text.Json, each value written with its
/// declared type, so both ends agree without type names in the payload.</summary>
internal static class WireCodec
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.General)
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    private static readonly ConcurrentDictionary<string, Func<string, Exception>?> ExceptionFactories = new(StringComparer.Ordinal);

    private static Utf8JsonWriter Writer(IBufferWriter<byte> output)
    {
        var w = t_writer;
        if (w is null)
        {
            t_writer = w = new Utf8JsonWriter(output, new JsonWriterOptions { SkipValidation = true });
        }
        else
        {
            w.Reset(output);
        }

        return w;
    }

    public static void WriteArgs(IBufferWriter<byte> output, MethodDescriptor method, object?[] args)
    {
        var w = Writer(output);
        w.WriteStartArray();
        var types = method.ParameterTypes;
        for (var i = 0; i < types.Length; i++)
        {
            JsonSerializer.Serialize(w, args[i], types[i], Options);
        }

        w.WriteEndArray();
        w.Flush();
        w.Reset(Stream.Null);
    }

    public static object?[] ReadArgs(ReadOnlySpan<byte> json, MethodDescriptor method)
    {
        var types = method.ParameterTypes;
        var args = types.Length == 0 ? [] : new object?[types.Length];
        var reader = new Utf8JsonReader(json);
        reader.Read();
        if (reader.TokenType != JsonTokenType.StartArray)
        {
            throw new JsonException("Arguments must be a JSON array.");
        }

        for (var i = 0; i < types.Length; i++)
        {
            reader.Read();
            args[i] = JsonSerializer.Deserialize(ref reader, types[i], Options);
        }

        return args;
    }

    public static void WriteResult(IBufferWriter<byte> output, Type? resultType, object? value)
    {
        if (resultType is null)
        {
            return;
        }

        var w = Writer(output);
        JsonSerializer.Serialize(w, value, resultType, Options);
        w.Flush();
        w.Reset(Stream.Null);
    }

    public static object? ReadResult(ReadOnlySpan<byte> json, Type? resultType) =>
        resultType is null || json.IsEmpty ? null : JsonSerializer.Deserialize(json, resultType, Options);

    public static void WriteException(IBufferWriter<byte> output, Exception e)
    {
        var w = Writer(output);
        w.WriteStartObject();
        // A failure relayed from another silo keeps its original type, so callers two hops away still know it.
        var relayed = e as GrainCallException;
        w.WriteString("type", relayed?.RemoteType ?? e.GetType().FullName);
        w.WriteString("message", e.Message);
        w.WriteString("stack", relayed?.RemoteStackTrace ?? e.StackTrace);
        w.WriteEndObject();
        w.Flush();
        w.Reset(Stream.Null);
    }

    /// <summary>Recreates the exception: the same type when this process knows it and it has a (string) constructor.</summary>
    public static Exception ReadException(ReadOnlySpan<byte> json)
    {
        string type = "System.Exception", message = "", stack = "";
        try
        {
            using var doc = JsonDocument.Parse(json.ToArray());
            type = doc.RootElement.GetProperty("type").GetString() ?? type;
            message = doc.RootElement.GetProperty("message").GetString() ?? "";
            stack = doc.RootElement.TryGetProperty("stack", out var s) ? s.GetString() ?? "" : "";
        }
        catch (JsonException)
        {
            return new GrainCallException("unknown", "A grain failed and its exception could not be read.", null);
        }

        var factory = ExceptionFactories.GetOrAdd(type, FindFactory);
        return factory is null ? new GrainCallException(type, message, stack) : factory(message);
    }

    private static Func<string, Exception>? FindFactory(string typeName)
    {
        foreach (var assembly in AppDomain.CurrentDomain.GetAssemblies())
        {
            var t = assembly.GetType(typeName, throwOnError: false);
            if (t is null || !typeof(Exception).IsAssignableFrom(t))
            {
                continue;
            }

            var ctor = t.GetConstructor(BindingFlags.Public | BindingFlags.Instance, [typeof(string)]);
            if (ctor is not null)
            {
                return message => (Exception)ctor.Invoke([message]);
            }
        }

        return null;
    }
}
