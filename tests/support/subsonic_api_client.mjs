// Drives a SoniqueBay server with the npm `subsonic-api` package (what web apps such as
// Feishin-like players build on): every method SoniqueBay supports, in three modes — salted
// token (GET), API key, and POSTed forms. Prints {mode: {call: answer}} as JSON; a media call
// answers {status, type, bytes}; a call that throws answers {thrown}.
//
//   node subsonic_api_client.mjs <package dir> <url> <user> <password> <apiKey> <ids JSON>
import { createRequire } from "node:module";

const [packageDir, url, username, password, apiKey, idsJson] = process.argv.slice(2);
const require = createRequire(packageDir + "/");
const { default: SubsonicAPI } = await import(require.resolve("subsonic-api"));
const ids = JSON.parse(idsJson);

const calls = [
  ["ping"], ["getLicense"], ["getOpenSubsonicExtensions"], ["getMusicFolders"],
  ["getIndexes"], ["getMusicDirectory", { id: ids.artist }], ["getMusicDirectory", { id: ids.album }],
  ["getGenres"], ["getArtists"], ["getArtist", { id: ids.artist }], ["getAlbum", { id: ids.album }],
  ["getSong", { id: ids.song }], ["getArtistInfo", { id: ids.artist }],
  ["getArtistInfo2", { id: ids.artist }], ["getAlbumInfo", { id: ids.album }],
  ["getAlbumInfo2", { id: ids.album }], ["getSimilarSongs", { id: ids.song }],
  ["getSimilarSongs2", { id: ids.song }], ["getTopSongs", { artist: ids.artistName }],
  ["getAlbumList", { type: "newest" }], ["getAlbumList2", { type: "alphabeticalByName" }],
  ["getRandomSongs", { size: 3 }], ["getSongsByGenre", { genre: ids.genre }],
  ["getNowPlaying"], ["star", { id: ids.song }], ["getStarred"], ["getStarred2"],
  ["unstar", { id: ids.song }], ["setRating", { id: ids.album, rating: 4 }],
  ["search2", { query: "drive" }], ["search3", { query: "" }],
  ["createPlaylist", { name: "npm mix", songId: [ids.song] }], ["getPlaylists"],
  ["scrobble", { id: ids.song, submission: false }], ["getLyrics", { artist: ids.artistName }],
  ["getLyricsBySongId", { id: ids.song }], ["getUser", { username }], ["getUsers"],
  ["createBookmark", { id: ids.song, position: 1000 }], ["getBookmarks"],
  ["deleteBookmark", { id: ids.song }], ["savePlayQueue", { id: [ids.song], current: ids.song, position: 10 }],
  ["getPlayQueue"], ["getScanStatus"],
  ["stream", { id: ids.song }], ["download", { id: ids.song }],
  ["getCoverArt", { id: ids.album, size: 64 }], ["getAvatar", { username }],
];
// What the package has no method for: through its own custom() call.
const custom = [
  ["tokenInfo", {}], ["getSonicSimilarTracks", { id: ids.song, count: 3 }],
  ["findSonicPath", { startSongId: ids.song, endSongId: ids.far, count: 4 }],
];

async function media(response) {
  const body = new Uint8Array(await response.arrayBuffer());
  return { status: response.status, type: response.headers.get("content-type"), bytes: body.length };
}

const modes = {
  token: { url, auth: { username, password } },
  apiKey: { url, auth: { apiKey } },
  post: { url, auth: { username, password }, post: true },
};
const out = {};
for (const [mode, config] of Object.entries(modes)) {
  const api = new SubsonicAPI(config);
  const answers = (out[mode] = {});
  for (const [method, args] of calls) {
    const key = method + (args && args.id ? " " + args.id : "");
    try {
      const answer = await api[method](args);
      answers[key] = answer instanceof Response ? await media(answer) : answer;
    } catch (error) {
      answers[key] = { thrown: String(error) };
    }
  }
  for (const [method, args] of custom) {
    try {
      answers[method] = (await (await api.custom(method, { ...args, f: "json" })).json())["subsonic-response"];
    } catch (error) {
      answers[method] = { thrown: String(error) };
    }
  }
  // the playlist this mode made, read back then removed
  const made = (answers["getPlaylists"].playlists.playlist || []).find((p) => p.name === "npm mix");
  answers["getPlaylist"] = await api.getPlaylist({ id: made.id });
  answers["deletePlaylist"] = await api.deletePlaylist({ id: made.id });
}
console.log(JSON.stringify(out));
