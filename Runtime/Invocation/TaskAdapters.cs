namespace FinCore.Runtime.Invocation;

/// <summary>Conversions between the four awaitable return shapes of grain methods and the runtime's
/// untyped <see cref="ValueTask{TResult}"/>; synchronous completions allocate nothing extra.</summary>
internal static class TaskAdapters
{
    public static ValueTask<object?> FromTask(Task task) => task.IsCompletedSuccessfully ? default : AwaitTask(task);

    public static ValueTask<object?> FromTaskOf<T>(Task<T> task) =>
        task.IsCompletedSuccessfully ? new ValueTask<object?>(task.Result) : AwaitTaskOf(task);

    public static ValueTask<object?> FromValueTask(ValueTask task) =>
        task.IsCompletedSuccessfully ? default : AwaitTask(task.AsTask());

    public static ValueTask<object?> FromValueTaskOf<T>(ValueTask<T> task) =>
        task.IsCompletedSuccessfully ? new ValueTask<object?>(task.Result) : AwaitTaskOf(task.AsTask());

    public static object ToTask(ValueTask<object?> value)
    {
        if (value.IsCompletedSuccessfully)
        {
            _ = value.Result;
            return Task.CompletedTask;
        }

        return value.AsTask();
    }

    public static object ToTaskOf<T>(ValueTask<object?> value) =>
        value.IsCompletedSuccessfully ? Task.FromResult((T)value.Result!) : AwaitAs<T>(value);

    public static object ToValueTask(ValueTask<object?> value)
    {
        if (value.IsCompletedSuccessfully)
        {
            _ = value.Result;
            return default(ValueTask);
        }

        return new ValueTask(value.AsTask());
    }

    public static object ToValueTaskOf<T>(ValueTask<object?> value) =>
        value.IsCompletedSuccessfully ? new ValueTask<T>((T)value.Result!) : new ValueTask<T>(AwaitAs<T>(value));

    private static async ValueTask<object?> AwaitTask(Task task)
    {
        await task;
        return null;
    }

    private static async ValueTask<object?> AwaitTaskOf<T>(Task<T> task) => await task;

    private static async Task<T> AwaitAs<T>(ValueTask<object?> value) => (T)(await value)!;
}
