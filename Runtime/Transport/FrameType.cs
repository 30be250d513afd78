namespace FinCore.Runtime.Transport;

internal enum FrameType : byte
{
    Hello = 1,
    Challenge = 2,
    Proof = 3,
    Accept = 4,
    Request = 10,
    Response = 11,
    Ping = 12,
    Pong = 13,
}
