// webtorrent's uTP binding, left out: ezio runs TCP only (uTP makes
// libtorrent crawl on loopback and is not wanted on a lab LAN). An empty
// object is what webtorrent sees when utp-native is not installed.
module.exports = {}
