// ezio runs TCP-only swarms; WebRTC peers are never created. Anything that
// reaches for a WebRTC class gets a clear error instead of a silent no-op.
function unavailable () {
  throw new Error('WebRTC is not part of ezio: the appliance speaks BitTorrent over TCP only')
}
module.exports = {
  RTCPeerConnection: unavailable,
  RTCSessionDescription: unavailable,
  RTCIceCandidate: unavailable
}
