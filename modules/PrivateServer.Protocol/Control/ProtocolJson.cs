using System.Text.Json;
using System.Text.Json.Serialization;

namespace PrivateServer.Protocol.Control;

/// <summary>The one JSON shape of the wire protocol: camelCase, no nulls written, source-generated.</summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowOutOfOrderMetadataProperties = true,
    MaxDepth = 8)]
[JsonSerializable(typeof(ControlMessage))]
[JsonSerializable(typeof(Api.EnrollRequest))]
[JsonSerializable(typeof(Api.EnrollResponse))]
[JsonSerializable(typeof(Api.TokenRequest))]
[JsonSerializable(typeof(Api.TokenResponse))]
[JsonSerializable(typeof(Api.HostSummary))]
[JsonSerializable(typeof(List<Api.HostSummary>))]
[JsonSerializable(typeof(Api.ApiProblem))]
[JsonSerializable(typeof(Api.SessionCodeRequest))]
[JsonSerializable(typeof(Api.SessionCodeResponse))]
[JsonSerializable(typeof(List<Api.WaitingRequest>))]
public sealed partial class ProtocolJson : JsonSerializerContext;
