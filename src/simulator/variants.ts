// The simulator's UI variants (SIMULATOR_UI_VARIANT): the same site as Grok Imagine's
// redesigns and languages show it, so the driver is tested against pages it was not
// written against.
//
//   classic      the reference page: menuitemradio choices, ids gi-*, NDJSON progress polling
//   drift        renamed ids and classes, reordered blocks, a contenteditable editor
//   aggressive   drift that also renames what public automations rely on (`sd-video`, `tabular-nums`)
//   stream       generation over POST /rest/app-chat/conversations/new streaming
//                streamingVideoGenerationResponse lines; media from a separate assets host
//   plain-menus  menus without roles: every choice and action is a plain button
//   locale       every visible text and accessible name in French

export const UI_VARIANTS = ['classic', 'drift', 'aggressive', 'stream', 'plain-menus', 'locale'] as const;
export type UiVariant = (typeof UI_VARIANTS)[number];

/** What the page says, per language (the driver's own table is in backends/browser/selectors.ts). */
const EN = {
  lang: 'en',
  welcome: 'Welcome to Grok',
  wallText: 'Sign in or create an account to continue.',
  expiredText: 'Your session has expired. Sign in or create an account to continue.',
  signIn: 'Sign in',
  signUp: 'Sign up',
  promptBox: 'Make a video',
  promptPlaceholder: 'Type to customize video...',
  videoOptions: 'Video Options',
  duration: 'Duration',
  resolution: 'Resolution',
  aspectRatio: 'Aspect ratio',
  mode: 'Mode',
  modeNormal: 'Normal',
  modeFun: 'Fun',
  modeSpicy: 'Spicy',
  modeCustom: 'Custom',
  extend: 'Extend video',
  makeVideo: 'Make video',
  redo: 'Redo',
  postMedia: 'Post media',
  generatedImage: 'Generated image',
  moreOptions: 'More options',
  upscale: 'Upscale video',
  delete: 'Delete',
  cancel: 'Cancel',
  postActions: 'Post actions',
  download: 'Download',
  imaginePrompt: 'Imagine prompt',
  imaginePlaceholder: 'Type to imagine',
  uploadImage: 'Upload image',
  submit: 'Submit',
  generatedImages: 'Generated images',
  postNotFound: 'Post not found',
  postNotFoundText: 'This post does not exist or was deleted.',
  rateLimited: 'Rate limit reached',
  tryAgainIn: 'Try again in',
  upgrade: 'Upgrade to unlock more',
  serverError: 'Server failed to respond',
  moderated: 'Content Moderated. Try a different idea.',
  networkError: 'Network error. Check your connection and try again.',
  abQuestion: 'Which video do you prefer?',
  preferVideo: 'Prefer video',
  select: 'Select',
  upscaling: 'Upscaling video…',
  deleteTitle: 'Delete video?',
  deleteText: 'This video will be deleted permanently.',
  deleted: 'Video deleted',
  uploadFailed: 'Upload failed',
  generating: 'Generating',
};
export type SiteTexts = typeof EN;

const FR: SiteTexts = {
  lang: 'fr',
  welcome: 'Bienvenue sur Grok',
  wallText: 'Connectez-vous ou créez un compte pour continuer.',
  expiredText: 'Votre session a expiré. Connectez-vous ou créez un compte pour continuer.',
  signIn: 'Se connecter',
  signUp: "S'inscrire",
  promptBox: 'Créer une vidéo',
  promptPlaceholder: 'Tapez pour personnaliser la vidéo...',
  videoOptions: 'Options vidéo',
  duration: 'Durée',
  resolution: 'Résolution',
  aspectRatio: "Format d'image",
  mode: 'Mode',
  modeNormal: 'Normal',
  modeFun: 'Amusant',
  modeSpicy: 'Épicé',
  modeCustom: 'Personnalisé',
  extend: 'Prolonger la vidéo',
  makeVideo: 'Générer la vidéo',
  redo: 'Refaire',
  postMedia: 'Média de la publication',
  generatedImage: 'Image générée',
  moreOptions: "Plus d'options",
  upscale: 'Améliorer la vidéo',
  delete: 'Supprimer',
  cancel: 'Annuler',
  postActions: 'Actions de la publication',
  download: 'Télécharger',
  imaginePrompt: 'Invite Imagine',
  imaginePlaceholder: 'Tapez pour imaginer',
  uploadImage: 'Importer une image',
  submit: 'Envoyer',
  generatedImages: 'Images générées',
  postNotFound: 'Publication introuvable',
  postNotFoundText: "Cette publication n'existe pas ou a été supprimée.",
  rateLimited: 'Limite atteinte',
  tryAgainIn: 'Réessayez dans',
  upgrade: 'Passez à SuperGrok',
  serverError: "Le serveur n'a pas répondu",
  moderated: 'Contenu modéré. Essayez une autre idée.',
  networkError: 'Erreur réseau. Vérifiez votre connexion et réessayez.',
  abQuestion: 'Quelle vidéo préférez-vous ?',
  preferVideo: 'Préférer la vidéo',
  select: 'Choisir',
  upscaling: 'Amélioration de la vidéo…',
  deleteTitle: 'Supprimer la vidéo ?',
  deleteText: 'Cette vidéo sera supprimée définitivement.',
  deleted: 'Vidéo supprimée',
  uploadFailed: "Échec de l'import",
  generating: 'Génération',
};

export interface VariantTraits {
  /** Incidental ids/classes renamed and blocks reordered. */
  drift: boolean;
  /** The ids and classes public automations rely on (sd-video, tabular-nums) renamed too. */
  aggressive: boolean;
  /** Generation over the streamed conversations endpoint, media from the assets host. */
  stream: boolean;
  /** Menus and their items without ARIA roles. */
  plainMenus: boolean;
  t: SiteTexts;
}

export function traits(variant: UiVariant): VariantTraits {
  return {
    drift: variant === 'drift' || variant === 'aggressive',
    aggressive: variant === 'aggressive',
    stream: variant === 'stream',
    plainMenus: variant === 'plain-menus',
    t: variant === 'locale' ? FR : EN,
  };
}
